import { loadConfig } from "@runline/config";
import { createTestNamespace, namespaceEnv, type TestNamespace } from "@runline/testing";
import { startRunline, type Runline } from "../src/runtime";


/** A JSON HTTP client bound to one server and (optionally) one API key. */
export interface ApiClient {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  get(path: string): Promise<{ status: number; body: any; headers: Headers }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  headers: Record<string, string>;
}

export function apiClient(baseUrl: string, apiKey?: string): ApiClient {
  const headers: Record<string, string> = apiKey ? { "x-api-key": apiKey } : {};
  const request = async (method: string, p: string, body?: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...extra },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { request, get: (p) => request("GET", p), post: (p, b) => request("POST", p, b ?? {}), headers };
}

/** A Runline (API + worker in this process) on a private namespace, with the story model paced for tests. */
export interface TestRunline {
  ns: TestNamespace;
  runline: Runline;
  url: string;
  api: ApiClient;
  close(): Promise<void>;
}

export async function startTestRunline(name: string, env: Record<string, string> = {}, existing?: TestNamespace): Promise<TestRunline> {
  const ns = existing ?? (await createTestNamespace(name));
  const config = loadConfig({
    ...namespaceEnv(ns),
    HOST: "127.0.0.1",
    PORT: "0",
    RUNLINE_STORY_TOKENS: "20",
    RUNLINE_STORY_DELAY_MS: "2",
    RUNLINE_HEARTBEAT_MS: "1000",
    LOG_LEVEL: "error",
    ...env,
  });
  const runline = await startRunline(config);
  const url = runline.url ?? "";
  const firstKey = config.apiKeys.keys().next().value;
  return {
    ns,
    runline,
    url,
    api: apiClient(url, firstKey),
    async close() {
      await runline.close();
      if (!existing) await ns.cleanup();
    },
  };
}

/** `{"messages": [{"role": "user", "content": text}]}` */
export function userInput(text: string) {
  return { messages: [{ role: "user", content: text }] };
}

/** The text of the last AI message of a values payload. */
export function lastAiText(values: any): string {
  const ai = (values?.messages ?? []).filter((m: any) => m.type === "ai");
  return ai.length ? String(ai[ai.length - 1].content) : "";
}
