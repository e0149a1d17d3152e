export { StoryChatModel, STORY_MODEL_NAME, type StoryChatModelOptions } from "./models/story-chat-model";
export {
  createChatModelFactory,
  type ChatModelFactory,
  type ChatModelOverrides,
  type ModelSettings,
  type OpenAISettings,
  type StorySettings,
} from "./models/chat-model-factory";
export {
  CHAT_MODEL_CONTEXT_KEY,
  MAX_STORY_DELAY_MS,
  MAX_STORY_TOKENS,
  STORY_DELAY_KEY,
  STORY_TOKENS_KEY,
  readModelOverrides,
  resolveChatModel,
  type RunlineGraphContext,
} from "./models/resolve-chat-model";
export { compileStoryGraph, graph as storyGraph, STORY_NODE } from "./story/story.graph";
