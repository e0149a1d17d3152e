import type { GraphEntry } from "./graph-spec";

/**
 * A graph named in the config that cannot be served: its file is missing or fails to import, the export is not
 * there, or it is not a graph. The message names the graph id, the file and the export, so a start that fails on
 * it tells the user exactly which line of `langgraph.json` to fix.
 */
export class GraphLoadError extends Error {
  readonly graphId: string;
  readonly file: string;
  readonly exportName: string;

  constructor(entry: GraphEntry, problem: string, options?: { cause?: unknown }) {
    super(`graph "${entry.graphId}" (${entry.spec}): ${problem}`, options);
    this.name = "GraphLoadError";
    this.graphId = entry.graphId;
    this.file = entry.modulePath;
    this.exportName = entry.exportName;
  }
}
