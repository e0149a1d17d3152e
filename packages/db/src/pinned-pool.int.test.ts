import { Pool, type PoolClient } from "pg";
import { pinPool } from "./pinned-pool";
import { createPool, withTransaction } from "./pool";

const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

// One connection: any second `pool.connect()` made while the transaction holds it would wait forever.
const pool = createPool(databaseUrl, "public", { max: 1, connectTimeoutMs: 2_000 });
afterAll(() => pool.end());

const pid = async (db: Pick<Pool, "query"> | PoolClient): Promise<number> => (await db.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
const txSetting = async (db: Pick<Pool, "query"> | PoolClient): Promise<string> =>
  (await db.query("SELECT current_setting('runline.pin_test', true) AS v")).rows[0].v ?? "";

describe("pinPool", () => {
  it("runs the pool's queries and connects on the held client, so a 1-connection pool does not wait", async () => {
    await withTransaction(pool, async (tx) => {
      const held = await pid(tx);
      await pinPool(pool, tx, async () => {
        expect(await pid(pool)).toBe(held);
        const view = await pool.connect();
        expect(await pid(view)).toBe(held);
        view.release();
      });
    });
  });

  it("turns the pinned code's BEGIN/COMMIT into no-ops: its writes stay in the caller's transaction", async () => {
    await withTransaction(pool, async (tx) => {
      await pinPool(pool, tx, async () => {
        const view = await pool.connect();
        await view.query("BEGIN");
        await view.query("SELECT set_config('runline.pin_test', 'inside', true)");
        await view.query("COMMIT");
        view.release();
      });
      // A real COMMIT would have ended the transaction and dropped the transaction-local setting.
      expect(await txSetting(tx)).toBe("inside");
    });
  });

  it("fails the caller's transaction when the pinned code rolled back", async () => {
    const attempt = withTransaction(pool, (tx) =>
      pinPool(pool, tx, async () => {
        const view = await pool.connect();
        await view.query("ROLLBACK");
        view.release();
      }),
    );
    await expect(attempt).rejects.toThrow(/rolled back/);
  });

  it("gives work left behind by the pinned code back to the pool once it returned", async () => {
    let later: (() => Promise<number>) | undefined;
    await withTransaction(pool, async (tx) => {
      await pinPool(pool, tx, async () => {
        later = () => pid(pool); // created in the pinned call tree, run after it ended
      });
    });
    await expect(later!()).resolves.toEqual(expect.any(Number));
  });

  it("refuses a plain pg Pool, which it cannot pin", async () => {
    const plain = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
      await expect(pinPool(plain, {} as PoolClient, async () => 1)).rejects.toThrow(/createPool/);
    } finally {
      await plain.end();
    }
  });
});
