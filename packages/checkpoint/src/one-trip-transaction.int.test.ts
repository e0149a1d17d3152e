// One-round-trip write transactions against real Postgres: what the saver writes arrives exactly (text with
// quotes and backslashes, bytes, JSON), in one query; a failing statement or the fence writes nothing; anything
// that cannot be held back runs as it would on a plain connection.
import { createTestNamespace, type TestNamespace } from "@runline/testing";
import { Pool, type PoolClient } from "pg";
import { inlineParameters, oneTripTransactions } from "./one-trip-transaction";

let ns: TestNamespace;
let pool: Pool;

beforeAll(async () => {
  ns = await createTestNamespace("one_trip");
  pool = new Pool({ connectionString: ns.databaseUrl, max: 2, options: `-c search_path="${ns.schema}"` });
  await pool.query("CREATE TABLE t (id integer PRIMARY KEY, label text, data bytea, doc jsonb, flag boolean)");
});

afterAll(async () => {
  await pool.end();
  await ns.cleanup();
});

beforeEach(() => pool.query("TRUNCATE t"));

/** A one-trip connection and the queries that reached the server through it. */
async function connection(opening: string[] = [], translate?: (err: unknown) => unknown): Promise<{ db: PoolClient; sent: string[]; release(): void }> {
  const client = await pool.connect();
  const sent: string[] = [];
  const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    sent.push(typeof args[0] === "string" ? args[0] : "(config)");
    return query(...args);
  };
  const db = oneTripTransactions(client, opening, translate);
  return { db, sent, release: () => client.release() };
}

const INSERT = "INSERT INTO t (id, label, data, doc, flag) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
const awkward = `it's a \\ back'slash\n"quoted" $1 ; DROP TABLE t; -- ünïcode 🦜`;

describe("oneTripTransactions", () => {
  it("sends BEGIN, the opening, every INSERT and COMMIT as one query, and the values arrive exactly", async () => {
    const { db, sent, release } = await connection(["SELECT 1"]);
    try {
      const bytes = Uint8Array.from([0, 1, 2, 39, 92, 255]);
      await db.query("BEGIN");
      await db.query(INSERT, [1, awkward, bytes, { nested: { text: awkward, n: 1.5, none: null } }, true]);
      await db.query(INSERT, [2, null, null, null, false]);
      await db.query("COMMIT");
      expect(sent).toHaveLength(1);
      const { rows } = await pool.query("SELECT id, label, data, doc, flag FROM t ORDER BY id");
      expect(rows[0]).toEqual({ id: 1, label: awkward, data: Buffer.from(bytes), doc: { nested: { text: awkward, n: 1.5, none: null } }, flag: true });
      expect(rows[1]).toEqual({ id: 2, label: null, data: null, doc: null, flag: false });
    } finally {
      release();
    }
  });

  it("writes nothing when a statement fails: Postgres stops the batch and the caller's ROLLBACK reaches it", async () => {
    const { db, release } = await connection();
    try {
      await db.query("BEGIN");
      await db.query(INSERT, [1, "kept?", null, null, null]);
      await db.query("INSERT INTO t (id, label) VALUES ($1, $2)", ["not a number", "x"]);
      await expect(db.query("COMMIT")).rejects.toThrow(/invalid input syntax for type integer/);
      await db.query("ROLLBACK");
      expect((await pool.query("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(0);
      // The connection is usable again.
      await db.query("BEGIN");
      await db.query(INSERT, [3, "after", null, null, null]);
      await db.query("COMMIT");
      expect((await pool.query("SELECT id FROM t")).rows).toEqual([{ id: 3 }]);
    } finally {
      release();
    }
  });

  it("refuses the whole write when the opening fails, translated for the caller, and nothing is written", async () => {
    const fenced = new Error("fenced");
    const { db, release } = await connection(["SELECT 1/0"], (err) => ((err as { code?: string }).code === "22012" ? fenced : err));
    try {
      await db.query("BEGIN");
      await db.query(INSERT, [1, "never", null, null, null]);
      await expect(db.query("COMMIT")).rejects.toBe(fenced);
      await db.query("ROLLBACK");
      expect((await pool.query("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(0);
    } finally {
      release();
    }
  });

  it("runs what it cannot hold back as a plain connection would: a SELECT sends what is held first", async () => {
    const { db, sent, release } = await connection();
    try {
      await db.query("BEGIN");
      await db.query(INSERT, [1, "a", null, null, null]);
      const { rows } = (await db.query("SELECT count(*)::int AS n FROM t")) as { rows: Array<{ n: number }> };
      expect(rows[0]!.n).toBe(1); // the held INSERT ran first, in the same transaction
      await db.query(INSERT, [2, "b", null, null, null]); // the batch is gone: runs with parameters
      await db.query("COMMIT");
      expect(sent).toEqual([`BEGIN;\n${inlineParameters(INSERT, [1, "a", null, null, null])}`, "SELECT count(*)::int AS n FROM t", INSERT, "COMMIT"]);
      expect((await pool.query("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(2);
    } finally {
      release();
    }
  });

  it("leaves U+0000 to Postgres with parameters (the simple protocol would cut the query there)", async () => {
    const { db, release } = await connection();
    try {
      await db.query("BEGIN");
      await expect(db.query(INSERT, [1, "a\0b", null, null, null])).rejects.toMatchObject({ code: "22021" });
      await db.query("ROLLBACK");
    } finally {
      release();
    }
  });

  it("a ROLLBACK before anything was sent costs no round trip", async () => {
    const { db, sent, release } = await connection();
    try {
      await db.query("BEGIN");
      await db.query(INSERT, [1, "a", null, null, null]);
      await db.query("ROLLBACK");
      expect(sent).toEqual([]);
    } finally {
      release();
    }
  });

  it("holds back no statement whose result or text it cannot reproduce: RETURNING, comments, quotes", async () => {
    const { db, sent, release } = await connection();
    try {
      for (const [id, sql] of [
        [1, "INSERT INTO t (id, label) VALUES ($1, $2) RETURNING id"],
        [2, "INSERT INTO t (id, label) VALUES ($1, $2) -- a comment"],
        [3, "INSERT INTO t (id, label) VALUES ($1, $2 || 'x')"],
      ] as const) {
        await db.query("BEGIN");
        const result = (await db.query(sql, [id, "v"])) as { rows: unknown[] };
        if (id === 1) expect(result.rows).toEqual([{ id: 1 }]);
        await db.query("COMMIT");
      }
      expect(sent.filter((q) => q.startsWith("INSERT"))).toHaveLength(3);
      expect((await pool.query("SELECT id, label FROM t ORDER BY id")).rows).toEqual([{ id: 1, label: "v" }, { id: 2, label: "v" }, { id: 3, label: "vx" }]);
    } finally {
      release();
    }
  });

  it("stops growing a batch at its size limit; the rest goes with parameters, in the same transaction", async () => {
    const { db, sent, release } = await connection();
    try {
      const big = new Uint8Array(3 * 1024 * 1024).fill(7); // 6 MB as hex: a second one would pass 8 MB
      await db.query("BEGIN");
      await db.query(INSERT, [1, "a", big, null, null]);
      await db.query(INSERT, [2, "b", big, null, null]);
      await db.query("COMMIT");
      expect(sent).toHaveLength(3); // BEGIN + the first, the second with parameters, COMMIT
      expect((await pool.query("SELECT id, length(data) AS n FROM t ORDER BY id")).rows).toEqual([{ id: 1, n: big.length }, { id: 2, n: big.length }]);
    } finally {
      release();
    }
  });
});

describe("inlineParameters", () => {
  it("leaves double-quoted identifiers alone and refuses what it cannot inline", () => {
    expect(inlineParameters(`INSERT INTO "s$1".t (a) VALUES ($1)`, ["x"])).toBe(`INSERT INTO "s$1".t (a) VALUES ('x')`);
    expect(inlineParameters("INSERT INTO tab$1 (a) VALUES ($1)", ["x"])).toBeNull();
    expect(inlineParameters("INSERT INTO t (a, b, c) VALUES (10-$1, $2, $3)", [-1, true, { toJSON: () => undefined }])).toBeNull();
    expect(inlineParameters("INSERT INTO t (a, b) VALUES (10-$1, $2)", [-1, true])).toBe("INSERT INTO t (a, b) VALUES (10-'-1', 'true')");
    expect(inlineParameters("INSERT INTO t (a) VALUES ($2)", ["x"])).toBeNull();
    expect(inlineParameters("INSERT INTO t (a) VALUES ($1)", [[1, 2]])).toBeNull();
    expect(inlineParameters("INSERT INTO t (a) VALUES ($1)", [new Date()])).toBeNull();
    expect(inlineParameters("INSERT INTO t (a) VALUES ($1)", [Number.NaN])).toBeNull();
  });
});
