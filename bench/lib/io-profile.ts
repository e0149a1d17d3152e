import { setTimeout as sleep } from "node:timers/promises";
import { streamInProcess } from "./in-process";
import { createThread, streamOverHttp } from "./over-http";
import type { Targets } from "./scenarios";
import { countByName, type IoTracer, type TraceEvent } from "./trace";
import type { StoryPace } from "./workload";

export interface IoProfile {
  pace: StoryPace;
  inProcess: { pgQueries: number; redisCommands: number; counts: Record<string, number> };
  runline: {
    pgQueries: number;
    redisCommands: number;
    counts: Record<string, number>;
    /** Round trips issued between the request and its response headers (all strictly sequential here). */
    beforeHeaders: string[];
    /** Round trips issued between the response headers and the first token reaching the client. */
    headersToFirstToken: string[];
    /** Every query/command of the run, ms from the request (bench/out only). */
    timeline: Array<{ atMs: number; durationMs: number; what: string }>;
  };
}

const label = (e: TraceEvent) => `${e.kind} ${e.name}`;

/**
 * One run per side with every Postgres query and Redis command recorded: what a run costs in round trips,
 * and which of them sit on the path to the first token. Run separately from the timed scenarios, so the
 * (small) recording overhead never touches the headline numbers.
 */
export async function profileIo(t: Targets, tracer: IoTracer, pace: StoryPace): Promise<IoProfile> {
  const threadId = await createThread(t.baseUrl);
  await sleep(100);
  tracer.install();
  try {
    return await tracedRuns(t, tracer, pace, threadId);
  } finally {
    tracer.uninstall();
  }
}

async function tracedRuns(t: Targets, tracer: IoTracer, pace: StoryPace, threadId: string): Promise<IoProfile> {
  tracer.record(true);
  await streamInProcess(t.graph, pace);
  await sleep(100); // trailing checkpoint writes
  tracer.record(false);
  const inEvents = tracer.reset();

  tracer.record(true);
  const run = await streamOverHttp(t.baseUrl, threadId, pace);
  await sleep(100); // finisher, BullMQ completion
  tracer.record(false);
  const rlEvents = tracer.reset().sort((a, b) => a.startMs - b.startMs);

  const { start, headers, firstToken } = run.marks;
  const between = (from: number, to: number) => rlEvents.filter((e) => e.startMs >= from && e.startMs < to).map(label);
  const totals = (events: TraceEvent[]) => ({
    pgQueries: events.filter((e) => e.kind === "pg").length,
    redisCommands: events.filter((e) => e.kind === "redis").length,
    counts: countByName(events),
  });
  return {
    pace,
    inProcess: totals(inEvents),
    runline: {
      ...totals(rlEvents),
      beforeHeaders: between(start, headers),
      headersToFirstToken: between(headers, firstToken),
      timeline: rlEvents.map((e) => ({ atMs: e.startMs - start, durationMs: e.durationMs, what: label(e) })),
    },
  };
}
