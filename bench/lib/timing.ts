import { performance } from "node:perf_hooks";

/** What one streamed run looked like to its consumer. */
export interface RunTiming {
  /** From just before the call/request to the first token (a `messages` item). */
  ttftMs: number;
  /** Gaps between consecutive tokens as the consumer received them (tokens − 1 values). */
  gapsMs: number[];
  /** Tokens (message chunks) received. */
  tokens: number;
  /** From just before the call/request to the end of the stream. */
  totalMs: number;
}

/** Records token arrival times for one run; `start` is taken by the caller right before the call. */
export class TokenClock {
  private first = Number.NaN;
  private previous = Number.NaN;
  readonly gapsMs: number[] = [];
  tokens = 0;

  constructor(readonly start: number) {}

  token(now = performance.now()): void {
    if (this.tokens === 0) this.first = now;
    else this.gapsMs.push(now - this.previous);
    this.previous = now;
    this.tokens += 1;
  }

  finish(now = performance.now()): RunTiming {
    return { ttftMs: this.first - this.start, gapsMs: this.gapsMs, tokens: this.tokens, totalMs: now - this.start };
  }
}

/** Fails loudly: a benchmark that silently lost tokens would report meaningless numbers. */
export function assertTokens(label: string, timing: RunTiming, expected: number): void {
  if (timing.tokens !== expected) {
    throw new Error(`${label}: expected ${expected} tokens, received ${timing.tokens}`);
  }
}
