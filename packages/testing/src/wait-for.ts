/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 20, what = "condition" }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until a statement starting with `queryPrefix` (and containing `contains`, e.g. an id of the test's own, so
 * another test's statement does not count) is waiting for a lock in Postgres (`pg_stat_activity`), for a test that
 * must know a transaction is blocked before it lets the holder go.
 */
export async function waitForLockWait(
  db: { query(text: string, values: unknown[]): Promise<{ rows: Array<{ n: number }> }> },
  queryPrefix: string,
  what: string,
  contains = "",
): Promise<void> {
  await waitFor(
    async () =>
      (
        await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND starts_with(query, $1) AND strpos(query, $2) > 0", [
          queryPrefix,
          contains,
        ])
      ).rows[0]!.n > 0,
    { timeoutMs: 5_000, what },
  );
}
