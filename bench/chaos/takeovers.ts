import type { RunAudit } from "./audit";
import type { RunlineProcess } from "./processes";

/** Why each takeover (attempt k ≥ 2) happened, as far as the processes' logs and the suite's own signals tell. */
export interface TakeoverCauses {
  takeovers: number;
  /** The previous attempt's worker had been SIGKILLed or SIGSTOPped by the suite before attempt k started. */
  afterSignal: number;
  /** Its worker was alive and never signalled: the attempt was lost some other way (lock lost, data lost). */
  other: number;
  /** A "Run started" line of attempt k or k-1 is missing (a crashed process's last lines, a log tail cut). */
  unknown: number;
  /** A few of the `other` ones: run, attempt, the worker that lost it. */
  examples: string[];
}

/**
 * Attributes takeovers from the workers' "Run started" lines (run id, attempt) and the signals the suite sent. A
 * kill scenario should show only `afterSignal`; any `other` is an attempt burned without its worker dying, which
 * counts against RUNLINE_MAX_ATTEMPTS all the same.
 */
export function takeoverCauses(processes: RunlineProcess[], runs: RunAudit[]): TakeoverCauses {
  const started = new Map<string, { proc: RunlineProcess; at: number }>();
  for (const proc of processes) {
    for (const line of proc.tail()) {
      if (!line.includes('"msg":"Run started"')) continue;
      try {
        const entry = JSON.parse(line);
        started.set(`${entry.runId}#${entry.attempt}`, { proc, at: Date.parse(entry.time) });
      } catch {
        /* a torn last line of a killed process */
      }
    }
  }
  const causes: TakeoverCauses = { takeovers: 0, afterSignal: 0, other: 0, unknown: 0, examples: [] };
  for (const run of runs) {
    for (let k = 2; k <= run.attempt; k++) {
      causes.takeovers++;
      const prev = started.get(`${run.runId}#${k - 1}`);
      const cur = started.get(`${run.runId}#${k}`);
      if (!prev || !cur) causes.unknown++;
      else if (prev.proc.signals.some((s) => (s.signal === "SIGKILL" || s.signal === "SIGSTOP") && s.at >= prev.at && s.at <= cur.at)) causes.afterSignal++;
      else {
        causes.other++;
        if (causes.examples.length < 3) causes.examples.push(`run ${run.runId} attempt ${k - 1} on ${prev.proc.name} → ${k} on ${cur.proc.name}`);
      }
    }
  }
  return causes;
}
