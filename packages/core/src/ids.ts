import { v4 as uuidv4, v5 as uuidv5, v7 as uuidv7, validate } from "uuid";

/** The LangGraph server's namespace for system assistant ids (uuid5(graph_id, NAMESPACE_GRAPH)). */
const NAMESPACE_GRAPH = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

/** Run ids are uuid7 (time-ordered), as on the LangGraph server; never all digits, never contain ':' (BullMQ job ids). */
export function newRunId(): string {
  return uuidv7();
}

export function newThreadId(): string {
  return uuidv4();
}

/** The id of the system assistant registered for a graph, the same on every process. */
export function assistantIdForGraph(graphId: string): string {
  return uuidv5(graphId, NAMESPACE_GRAPH);
}

export function isUuid(value: string): boolean {
  return validate(value);
}
