import type { Request, Response } from "express";

/**
 * Answers a long wait (`/runs/wait`, `/join`) with JSON, writing a newline every `keepAliveMs` until it is ready,
 * as the LangGraph server does, so proxies keep the connection open (JSON.parse ignores the leading
 * whitespace). `work` gets a signal that aborts when the client leaves.
 */
export async function respondWhenDone(
  req: Request,
  res: Response,
  keepAliveMs: number,
  work: (signal: AbortSignal) => Promise<unknown>,
  onClientGone?: () => void,
): Promise<void> {
  res.status(200).type("application/json");
  res.flushHeaders();
  const controller = new AbortController();
  let done = false;
  res.on("close", () => {
    if (!done) {
      controller.abort();
      onClientGone?.();
    }
  });
  const keepAlive = setInterval(() => res.write("\n"), keepAliveMs);
  try {
    const body = await work(controller.signal);
    done = true;
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  } catch (err) {
    done = true;
    res.end(JSON.stringify({ __error__: { error: (err as Error)?.name ?? "Error", message: (err as Error)?.message ?? String(err) } }));
  } finally {
    clearInterval(keepAlive);
  }
}
