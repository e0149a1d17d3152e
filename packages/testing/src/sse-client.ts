/** One SSE frame as a client sees it. */
export interface SseFrame {
  event: string;
  data: any;
  id?: string;
}

/** An open SSE response: frames as they arrive, plus the response headers. */
export interface SseStream {
  status: number;
  headers: Headers;
  frames: AsyncIterableIterator<SseFrame>;
  /** Closes the connection (a client going away). */
  close(): void;
}

/** Opens an SSE request with fetch and parses frames incrementally (comments such as heartbeats are skipped). */
export async function openSse(url: string, init: RequestInit = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  if (!response.body) throw new Error(`no body from ${url}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  async function* frames(): AsyncIterableIterator<SseFrame> {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let sep: number;
        while ((sep = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const raw = buffer.slice(0, sep);
          buffer = buffer.slice(buffer[sep] === "\r" ? sep + 4 : sep + 2);
          const frame = parseFrame(raw);
          if (frame) yield frame;
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
  }
  return { status: response.status, headers: response.headers, frames: frames(), close: () => controller.abort() };
}

function parseFrame(raw: string): SseFrame | null {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (!data.length) return null;
  return { event, data: JSON.parse(data.join("\n")), id };
}

/** Reads an SSE stream to its end (the server closes it after the run's terminal event). */
export async function collectSse(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; frames: SseFrame[] }> {
  const stream = await openSse(url, init);
  const frames: SseFrame[] = [];
  for await (const frame of stream.frames) frames.push(frame);
  return { status: stream.status, headers: stream.headers, frames };
}
