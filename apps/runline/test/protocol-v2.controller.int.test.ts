import { Client } from "@langchain/langgraph-sdk";
import { StreamController } from "@langchain/langgraph-sdk/stream";
import { waitFor } from "@runline/testing";
import { startTestRunline, type TestRunline } from "./harness";

// The engine of `@langchain/react` 1.x's useStream (StreamController), headless in Node: what a page does on
// send, stop, reload, "continue" and forkFrom, against Runline.
let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("protocol-v2-controller");
});
afterAll(async () => {
  await t.close();
});

const text = (m: any) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content));

function controllerFor(threadId: string | null) {
  const controller = new StreamController({ assistantId: "story", client: new Client({ apiUrl: t.url }), threadId });
  const release = controller.activate();
  return { controller, snapshot: () => controller.rootStore.getSnapshot(), close: async () => { release(); await controller.dispose(); } };
}

describe("StreamController (useStream 1.x) against Runline", () => {
  it("send, stop keeps the partial, reload shows it with its parent checkpoint, continue sees it, forkFrom branches", async () => {
    const page = controllerFor(null);
    try {
      await page.controller.submit({ messages: [{ type: "human", content: "hello" }] }, { config: { configurable: { story_tokens: 8, story_token_delay_ms: 1 } } });
      expect(page.snapshot().isLoading).toBe(false);
      expect(page.snapshot().messages.map((m: any) => m.getType())).toEqual(["human", "ai"]);
      const threadId = page.snapshot().threadId!;

      const running = page.controller.submit({ messages: [{ type: "human", content: "a long story" }] }, { config: { configurable: { story_tokens: 400, story_token_delay_ms: 10 } } });
      await waitFor(() => {
        const last = page.snapshot().messages.at(-1) as any;
        return last?.getType() === "ai" && text(last).split(" ").length > 6 && page.snapshot().messages.length === 4;
      }, { timeoutMs: 15_000 });
      await page.controller.stop();
      await running.catch(() => undefined);
      expect(page.snapshot().isLoading).toBe(false);
      const runs = (await t.api.get(`/threads/${threadId}/runs`)).body;
      await waitFor(async () => (await t.api.get(`/threads/${threadId}/runs/${runs[0].run_id}`)).body.status === "interrupted", { timeoutMs: 15_000 });
      const run = (await t.api.get(`/threads/${threadId}/runs/${runs[0].run_id}`)).body;
      // The client drops a stopped run's streamed-only message at once; the saved partial comes back on the
      // still-open stream in the stop's final values event.
      await waitFor(() => (page.snapshot().messages[3] as any)?.id === run.partial.message_id, { timeoutMs: 10_000, what: "the partial on the stopped page" });

      // Reload: a new controller hydrates from GET /state and POST /history.
      const reloaded = controllerFor(threadId);
      try {
        await reloaded.controller.hydrationPromise;
        const messages = reloaded.snapshot().messages as any[];
        expect(messages).toHaveLength(4);
        expect(messages[3].id).toBe(run.partial.message_id);
        expect(reloaded.snapshot().isLoading).toBe(false);
        const meta = reloaded.controller.messageMetadataStore.getSnapshot() as any;
        const parent = (meta.get ? meta.get(run.partial.message_id) : meta[run.partial.message_id])?.parentCheckpointId;
        expect(parent).toBe(run.partial.parent_checkpoint_id);

        await reloaded.controller.submit({ messages: [{ type: "human", content: "please continue the story" }] }, { config: { configurable: { story_tokens: 6, story_token_delay_ms: 1 } } });
        expect(text(reloaded.snapshot().messages.at(-1))).toContain("saw 5 messages");

        await reloaded.controller.submit({ messages: [{ type: "human", content: "make it a poem" }] }, { forkFrom: parent, config: { configurable: { story_tokens: 4, story_token_delay_ms: 1 } } });
        const state = (await t.api.get(`/threads/${threadId}/state`)).body;
        expect(state.values.messages.map((m: any) => m.content.slice(0, 14))).toEqual(["hello", expect.any(String), "a long story", "make it a poem", expect.any(String)]);
      } finally {
        await reloaded.close();
      }
    } finally {
      await page.close();
    }
  });
});
