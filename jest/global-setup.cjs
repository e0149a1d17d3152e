// Integration tests need the real Redis and Postgres: check both answer and fail with the fix if not.
const net = require("node:net");

function probe(url, fallbackPort) {
  const u = new URL(url);
  const port = Number(u.port || fallbackPort);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port }, () => { socket.end(); resolve(true); });
    socket.on("error", () => resolve(false));
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
  });
}

module.exports = async () => {
  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
  const missing = [];
  if (!(await probe(redisUrl, 6379))) missing.push(`Redis at ${redisUrl}`);
  if (!(await probe(databaseUrl, 5432))) missing.push(`Postgres at ${databaseUrl}`);
  if (missing.length) {
    throw new Error(`Integration tests need ${missing.join(" and ")}. Run them with 'npm test' (it starts the services) or set REDIS_URL / DATABASE_URL.`);
  }
};
