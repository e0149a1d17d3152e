import { runDemo } from "../src/demo";
import { startTestRunline, type TestRunline } from "./harness";

let t: TestRunline;
beforeAll(async () => {
  t = await startTestRunline("demo");
});
afterAll(async () => {
  await t.close();
});

describe("the npm start tour", () => {
  it("streams, stops, shows the saved partial, continues from it, and lists two branches from the stop point", async () => {
    let output = "";
    const result = await runDemo({ baseUrl: t.url, write: (text) => (output += text), stopAfterTokens: 12, tokenDelayMs: 5 });
    expect(result.partial.token_count).toBeGreaterThanOrEqual(12);
    expect(result.continuation).toContain("saw 3 messages");
    expect(result.branchCheckpointIds).toHaveLength(2);
    expect(output).toContain("Stop pressed after");
    expect(output).toContain(`saved as message ${result.partial.message_id}`);
    const state = (await t.api.get(`/threads/${result.threadId}/state`)).body;
    expect(state.values.messages[1].id).toBe(result.partial.message_id);
  });
});
