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

  it("without keys: loopback origins and the host guard (loopback names plus RUNLINE_ALLOWED_HOSTS)", () => {
    expect(loadConfig({})).toMatchObject({ corsOrigins: ["loopback"], allowedHosts: [] });
    expect(loadConfig({ HOST: "0.0.0.0", RUNLINE_ALLOWED_HOSTS: "DevBox.lan:2024, runline" }).allowedHosts).toEqual(["devbox.lan", "runline"]);
    expect(loadConfig({ RUNLINE_ALLOWED_HOSTS: "*" }).allowedHosts).toBeNull();
    expect(loadConfig({ RUNLINE_CORS_ORIGINS: "none" }).corsOrigins).toEqual([]);
    expect(() => loadConfig({ RUNLINE_ALLOWED_HOSTS: "http://x/" })).toThrow(/RUNLINE_ALLOWED_HOSTS/);
  });

  it("with keys: any origin by default (keys are headers, not cookies), no host guard", () => {
    expect(loadConfig({ RUNLINE_API_KEYS: "k:t" })).toMatchObject({ corsOrigins: ["*"], allowedHosts: null });
    expect(loadConfig({ RUNLINE_API_KEYS: "k:t", RUNLINE_CORS_ORIGINS: "https://app.example, loopback" }).corsOrigins).toEqual([
      "https://app.example",
      "loopback",
    ]);
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "x", RUNLINE_API_KEYS: "nocolon" })).toThrow(/PORT[\s\S]*RUNLINE_API_KEYS/);
  });
});
