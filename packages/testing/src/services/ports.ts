import net from "node:net";

/**
 * A TCP port that was free on 127.0.0.1 a moment ago: bind port 0, read what the kernel chose, release it.
 * Another process may take it before the caller binds, so starters retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Sends one inline Redis command over a fresh TCP connection and resolves with the raw reply once `complete`
 * accepts it; rejects on error or after `timeoutMs`. No client library, so no reconnect or queueing logic sits
 * between the probe and the server.
 */
export function rawRedisCommand(port: number, command: string, complete: (reply: string) => boolean, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no reply to ${command} within ${timeoutMs} ms`)));
    socket.once("error", finish);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.startsWith("-") && reply.includes("\r\n")) finish();
      else if (complete(reply)) finish();
    });
    socket.once("end", () => finish(new Error(`connection closed after ${JSON.stringify(reply)}`)));
  });
}
