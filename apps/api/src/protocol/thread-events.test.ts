import type { RunsService } from "../services/runs.service";
import { threadEvents } from "./thread-events";

// A client that goes away while the runs table is being read must end the stream: otherwise the generator
// re-reads forever without yielding, and the SSE cleanup (heartbeat, hub listener, stream slot) never runs.
it("ends, and stops listening, when the client goes away during a read of the thread's runs", async () => {
  const controller = new AbortController();
  let reads = 0;
  let unlistened = false;
  const runs = {
    onThreadRun: async () => () => {
      unlistened = true;
    },
    threadRuns: async () => {
      reads++;
      if (reads === 2) controller.abort();
      if (reads > 50) throw new Error("still reading after the client went away");
      return [];
    },
  } as unknown as RunsService;
  const events = [];
  for await (const event of threadEvents(runs, "t", "thread-1", { channels: ["values"] } as never, controller.signal, { recheckMs: 1 })) {
    events.push(event);
  }
  expect(events).toEqual([]);
  expect(reads).toBe(2);
  expect(unlistened).toBe(true);
});
