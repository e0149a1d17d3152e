import http from "node:http";
import { createReadStream, existsSync, statSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";

/** Runline's API paths: what the page calls on its own origin (same list as examples/web/vite.config.ts). */
export const API_PATHS = ["/threads", "/assistants", "/runs", "/info", "/ok"];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the page sent them. */
  path: string;
  /** The `Last-Event-ID` header, when the request had one (SSE resumption). */
  lastEventId?: string;
}

export interface ExampleServer {
  url: string;
  /** Requests proxied to Runline so far, in order (for assertions and debugging). */
  proxied: ProxiedRequest[];
  /**
   * Cuts every event stream the proxy is relaying right now, as a dropped connection would: the browser sees a
   * network error mid-stream, Runline sees its client go. Returns how many were cut.
   */
  cutEventStreams(): number;
  close(): Promise<void>;
}

function isApiPath(pathname: string): boolean {
  return API_PATHS.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

/**
 * Serves the built example (`dist/`) and forwards the API paths to Runline, on one origin: Runline sends no
 * CORS headers, and a page on the API's origin needs none. Responses stream through as they come (SSE is not
 * buffered), and a browser that goes away closes the upstream request too, so Runline sees the disconnect
 * exactly as it would without the proxy (that is how useStream's stop() cancels a non-resumable run).
 */
export async function serveExample(distDir: string, apiUrl: string): Promise<ExampleServer> {
  const api = new URL(apiUrl);
  const proxied: ProxiedRequest[] = [];
  const eventStreams = new Set<http.ServerResponse>();
  const sockets = new Set<import("node:net").Socket>();
  const upstreamRequests = new Set<http.ClientRequest>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (isApiPath(url.pathname)) {
      const lastEventId = req.headers["last-event-id"];
      proxied.push({ method: req.method ?? "GET", path: req.url ?? "/", ...(typeof lastEventId === "string" ? { lastEventId } : {}) });
      const headers = { ...req.headers, host: api.host };
      const upstream = http.request(
        { host: api.hostname, port: api.port, method: req.method, path: req.url, headers, agent: false },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.flushHeaders();
          if (String(up.headers["content-type"] ?? "").startsWith("text/event-stream")) {
            eventStreams.add(res);
            res.on("close", () => eventStreams.delete(res));
          }
          up.on("data", (chunk: Buffer) => res.write(chunk));
          up.on("end", () => res.end());
          up.on("error", () => res.destroy());
        },
      );
      upstreamRequests.add(upstream);
      upstream.on("close", () => upstreamRequests.delete(upstream));
      upstream.on("error", (err) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${err.message}`);
        else res.destroy();
      });
      // The browser aborted (stop(), reload, closed tab): drop the upstream connection as well.
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    // Static files; anything else (e.g. `/?thread=…`) is the page itself.
    let file = path.join(distDir, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(distDir) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(distDir, "index.html");
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxied,
    cutEventStreams() {
      const open = [...eventStreams];
      for (const res of open) res.destroy();
      return open.length;
    },
    async close() {
      for (const r of upstreamRequests) r.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
