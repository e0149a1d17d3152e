import {
  END,
  MessagesAnnotation,
  START,
  StateGraph,
  type BaseCheckpointSaver,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";
import { resolveChatModel } from "../models/resolve-chat-model";

/** The `story` graph's only node; its messages are what cancel saves as the partial. */
export const STORY_NODE = "llm";

async function callModel(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  // Passing `config` on carries the run's abort signal and the callbacks `messages` stream mode listens on.
  const response = await resolveChatModel(config).invoke(state.messages, config);
  return { messages: [response] };
}

/**
 * The bundled `story` graph, uncompiled (the registry compiles it with Runline's checkpointer):
 * START → `llm` → END over `MessagesAnnotation`. The model comes from {@link resolveChatModel}.
 */
export const graph = new StateGraph(MessagesAnnotation)
  .addNode(STORY_NODE, callModel)
  .addEdge(START, STORY_NODE)
  .addEdge(STORY_NODE, END);

/** Compiles {@link graph}, optionally with a checkpointer; for tests, benchmarks and the demo. */
export function compileStoryGraph(checkpointer?: BaseCheckpointSaver) {
  return graph.compile({ checkpointer });
}
