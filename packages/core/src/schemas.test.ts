import { INPUT_LIMITS } from "./limits";
import { AssistantSearchBody, JoinStreamQuery, ListRunsQuery, RunCreateBody, StateUpdateBody } from "./schemas";

const run = (extra: Record<string, unknown>) => RunCreateBody.safeParse({ assistant_id: "story", ...extra });
const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (r.error?.issues ?? []).map((i) => i.path.join("."));

describe("RunCreateBody bounds", () => {
  it("accepts what the SDK sends", () => {
    const ok = run({ stream_mode: ["values", "messages-tuple", "values"], config: { configurable: { story_tokens: 3 }, tags: ["a"], recursion_limit: 50 } });
    expect(ok.success).toBe(true);
    expect(ok.data?.stream_mode).toEqual(["values", "messages-tuple"]);
  });

  it("refuses config keys LangGraph does not document for runs, debug included", () => {
    const r = run({ config: { debug: true } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toMatch(/config may only hold .*debug/);
  });

  it("refuses configurable keys reserved for LangGraph", () => {
    expect(paths(run({ config: { configurable: { __pregel_send: 1, ok: 2 } } }))).toEqual(["config.configurable.__pregel_send"]);
  });

  it("bounds numbers and lists", () => {
    expect(paths(run({ after_seconds: 1e308 }))).toEqual(["after_seconds"]);
    expect(paths(run({ config: { recursion_limit: INPUT_LIMITS.recursionLimit + 1 } }))).toEqual(["config.recursion_limit"]);
    expect(run({ config: { tags: Array(100_000).fill("t") } }).error?.issues).toHaveLength(1);
    expect(run({ stream_mode: Array(10_000).fill("bogus") }).error?.issues).toHaveLength(1);
  });

  it("checks a fork point given in configurable like any other", () => {
    expect(paths(run({ config: { configurable: { checkpoint_id: "not a checkpoint" } } }))).toEqual(["config.configurable.checkpoint_id"]);
  });
});

describe("query and other bodies", () => {
  it("reads a join's stream_mode in every form the SDK and people send, and refuses garbage as 422 material", () => {
    expect(JoinStreamQuery.parse({ stream_mode: '["values","updates"]' }).stream_mode).toEqual(["values", "updates"]);
    expect(JoinStreamQuery.parse({ stream_mode: ["values", "updates"] }).stream_mode).toEqual(["values", "updates"]);
    expect(JoinStreamQuery.parse({ stream_mode: "values,custom" }).stream_mode).toEqual(["values", "custom"]);
    expect(JoinStreamQuery.safeParse({ stream_mode: "[garbage" }).success).toBe(false);
    expect(JoinStreamQuery.safeParse({ stream_mode: "[[[1]]]" }).success).toBe(false);
  });

  it("bounds list routes' paging", () => {
    expect(ListRunsQuery.safeParse({ limit: "1001" }).success).toBe(false);
    expect(ListRunsQuery.safeParse({ offset: "-1" }).success).toBe(false);
    expect(ListRunsQuery.safeParse({ limit: ["1", "2"] }).success).toBe(false);
    expect(AssistantSearchBody.safeParse({ limit: "10" }).success).toBe(false);
    expect(AssistantSearchBody.parse({})).toMatchObject({ limit: 10, offset: 0 });
  });

  it("takes state updates as objects, lists or null only", () => {
    expect(StateUpdateBody.safeParse({ values: 123 }).success).toBe(false);
    expect(StateUpdateBody.safeParse({ values: null, as_node: "llm" }).success).toBe(true);
  });
});
