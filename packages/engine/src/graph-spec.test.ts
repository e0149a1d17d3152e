import path from "node:path";
import { parseGraphSpec } from "./graph-spec";

const where = "/p/langgraph.json";

describe("parseGraphSpec: the graphs entries of langgraph.json", () => {
  it("reads the string form and the documented object form", () => {
    expect(parseGraphSpec("a", "./src/agent.ts:graph", "/p", where)).toMatchObject({ modulePath: path.resolve("/p/src/agent.ts"), exportName: "graph", spec: "./src/agent.ts:graph" });
    expect(parseGraphSpec("b", { path: "./b.ts:make", description: "B" }, "/p", where)).toMatchObject({ exportName: "make", description: "B" });
  });

  it("defaults the export to `default`, and keeps a drive letter out of the export", () => {
    expect(parseGraphSpec("a", "./src/agent.ts", "/p", where).exportName).toBe("default");
    expect(parseGraphSpec("w", "C:\\p\\agent.ts", "/p", where).exportName).toBe("default");
    expect(parseGraphSpec("w", "C:\\p\\agent.ts:graph", "/p", where).exportName).toBe("graph");
  });

  it("refuses what is not a spec, naming the graph", () => {
    expect(() => parseGraphSpec("a", 3, "/p", where)).toThrow(`${where}: graphs.a must be`);
    expect(() => parseGraphSpec("a", { description: "no path" }, "/p", where)).toThrow("graphs.a must be");
    expect(() => parseGraphSpec("a", "./a.ts:", "/p", where)).toThrow('graphs.a = "./a.ts:" needs a file and an export');
  });
});
