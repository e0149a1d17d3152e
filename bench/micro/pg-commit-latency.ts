// How long does one tiny Postgres commit take on this machine, and how heavy is the tail?
//   npx tsx bench/micro/pg-commit-latency.ts [--seconds 20]
// One connection, a one-row UPDATE in autocommit, back to back, first with synchronous_commit=on (the server default,
// waits for the WAL flush) and then off. Every cancel commits 4 times on its path (intent, LangGraph's putWrites and
// put, the run's finish), so this tail is the floor of the cancel tail.
import { parseArgs } from "node:util";
import { Client } from "pg";
import { testServiceUrls } from "@runline/testing";
import { percentile } from "../lib/stats";

async function loop(client: Client, table: string, seconds: number): Promise<number[]> {
  const xs: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t = process.hrtime.bigint();
    await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`);
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return xs;
}

async function main() {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" } } });
  const seconds = Number(values.seconds);
  const schema = `bench_commitlat_${process.pid}`;
  const client = new Client({ connectionString: testServiceUrls().databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id int primary key, v int); INSERT INTO ${schema}.t VALUES (1, 0)`);
    for (const mode of ["on", "off"]) {
      await client.query(`SET synchronous_commit = ${mode}`);
      const xs = await loop(client, `${schema}.t`, seconds);
      const f = (v: number) => v.toFixed(2);
      console.log(
        `synchronous_commit=${mode}: n=${xs.length} p50 ${f(percentile(xs, 50))} p95 ${f(percentile(xs, 95))} p99 ${f(percentile(xs, 99))}` +
          ` p99.9 ${f(percentile(xs, 99.9))} max ${f(Math.max(...xs))} ms; >25 ms: ${xs.filter((x) => x > 25).length}, >100 ms: ${xs.filter((x) => x > 100).length}`,
      );
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
