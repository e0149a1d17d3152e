import path from "node:path";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "@runline/testing";
import { startTestRunline, type TestRunline } from "../harness";

/** A Runline whose model is `ChatOpenAI` talking real HTTP to a fake OpenAI-compatible server on loopback. */
export interface ModelHttpRig {
  t: TestRunline;
  fake: FakeOpenAIServer;
  close(): Promise<void>;
}

/** The environment that points Runline's model at `fake` (for an in-process Runline or a worker process). */
export function modelHttpEnv(fake: FakeOpenAIServer): Record<string, string> {
  return {
    RUNLINE_MODEL_PROVIDER: "openai",
    OPENAI_BASE_URL: fake.baseURL,
    RUNLINE_MODEL: "fake-gpt",
    // Small enough that the stall test ends quickly; far above any delay the scripts use between chunks.
    RUNLINE_MODEL_IDLE_TIMEOUT_MS: "800",
    RUNLINE_MODEL_MAX_RETRIES: "1",
    RUNLINE_CONFIG: path.join(__dirname, "../fixtures/runline.model-http.json"),
  };
}

export async function startModelHttpRig(name: string, env: Record<string, string> = {}): Promise<ModelHttpRig> {
  const fake = await startFakeOpenAIServer();
  const t = await startTestRunline(name, { ...modelHttpEnv(fake), ...env });
  return {
    t,
    fake,
    async close() {
      await t.close();
      await fake.close();
    },
  };
}

/** `n` word tokens: "w0 w1 w2 …". */
export const words = (n: number) => Array.from({ length: n }, (_, i) => (i ? ` w${i}` : "w0"));

/**
 * The rig of one test file: started in `beforeAll`, closed in `afterAll`. The returned object is filled in
 * when `beforeAll` has run, so read its fields inside tests only.
 */
export function useModelHttpRig(name: string, env: Record<string, string> = {}): ModelHttpRig {
  const rig = {} as ModelHttpRig;
  beforeAll(async () => {
    Object.assign(rig, await startModelHttpRig(name, env));
  });
  afterAll(async () => {
    await rig.close?.();
  });
  return rig;
}
