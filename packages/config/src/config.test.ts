import { loadConfig } from "./config";

describe("loadConfig", () => {
  it("defaults to a single tenant on loopback with the built-in story model", () => {
    const config = loadConfig({});
    expect(config.host).toBe("127.0.0.1");
    expect(config.apiKeys.size).toBe(0);
    expect(config.model.provider).toBe("story");
    expect(config.port).toBe(2024);
  });

  it("maps API keys to tenants and listens on all interfaces when keys are set", () => {
    const config = loadConfig({ RUNLINE_API_KEYS: "k1:alpha, k2:beta" });
    expect(config.apiKeys.get("k1")).toBe("alpha");
    expect(config.apiKeys.get("k2")).toBe("beta");
    expect(config.host).toBe("0.0.0.0");
  });

  it("picks the OpenAI-compatible model when a key is present", () => {
    const config = loadConfig({ OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" });
    expect(config.model).toMatchObject({ provider: "openai", openai: { baseURL: "http://127.0.0.1:8000/v1" } });
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "x", RUNLINE_API_KEYS: "nocolon" })).toThrow(/PORT[\s\S]*RUNLINE_API_KEYS/);
  });
});
