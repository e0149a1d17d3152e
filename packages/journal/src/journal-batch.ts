import calculateSlot from "cluster-key-slot";
import { ReplyError, type Redis } from "ioredis";
import { publishCommand } from "./live-channel";
import { defineScript } from "./redis-script";

/** The append script's answer to one item: `OK` + entry id, `DUP`, `GAP`, `FENCED` or `ENDED`. */
export type ScriptReply = [string, string?];

/** One call of the append script: the keys and arguments of one event. */
export interface ScriptItem {
  streamKey: string;
  fenceKey: string;
  liveChannel: string;
  event: string;
  json: string;
  /** Seconds the stream and fence are kept after `end` (mode 1); 0 otherwise. */
  ttlSeconds: number;
  /** 0 = not an attempt (no fence check). */
  attempt: number;
  seq: number;
  /** 0 append, 1 end, 2 claim. */
  mode: "0" | "1" | "2";
}

/** Bounds and timing of {@link ScriptBatcher}. */
export interface ScriptBatchOptions {
  /** Most items one script call carries. @defaultValue 256 */
  maxItems?: number;
  /** Most payload (event names plus JSON, UTF-16 units) one script call carries. @defaultValue 1_000_000 */
  maxBytes?: number;
}

// Fence check, XADD and PUBLISH per item, for a batch of items in one script: one round trip per event-loop
// turn, no window where an entry is stored but not published, and no way for a superseded attempt to slip an
// entry in between the check and the write. Items are applied in order, each exactly as if it were a script
// call of its own: a refused or failed item (its error caught by pcall) does not stop the ones after it.
// KEYS: stream, fence per item. ARGV: maxLen, then per item channel, event, json, ttl, attempt, seq, mode.
// %PUBLISH% is PUBLISH on a single Redis, SPUBLISH on a cluster (see publishCommand).
const BATCH_LUA = `
local maxLen = ARGV[1]
local function apply(stream, fence, channel, event, json, ttl, attempt, seq, mode)
  local f = redis.call('HMGET', fence, 'a', 's', 'e')
  if f[3] then return {'ENDED'} end
  attempt = tonumber(attempt)
  if attempt > 0 then
    local owner = tonumber(f[1]) or 0
    if owner > attempt then return {'FENCED'} end
    if mode == '2' then
      if owner < attempt then redis.call('HSET', fence, 'a', attempt, 's', 0) end
      return {'OK', ''}
    end
    seq = tonumber(seq)
    if owner == attempt then
      local last = tonumber(f[2]) or 0
      if seq <= last then return {'DUP'} end
      if seq ~= last + 1 then return {'GAP'} end
    end
    -- owner < attempt: every attempt claims first, so the fence is gone (Redis lost its data); take it from here.
    redis.call('HSET', fence, 'a', attempt, 's', seq)
  end
  local id = redis.call('XADD', stream, 'MAXLEN', '~', maxLen, '*', 'e', event, 'd', json)
  redis.call('%PUBLISH%', channel, id .. '\\n' .. event .. '\\n' .. json)
  if mode == '1' then
    redis.call('HSET', fence, 'e', 1)
    ttl = tonumber(ttl)
    redis.call('EXPIRE', stream, ttl)
    redis.call('EXPIRE', fence, ttl)
  end
  return {'OK', id}
end
local replies = {}
for i = 1, #KEYS / 2 do
  local a = 1 + (i - 1) * 7
  local ok, reply = pcall(apply, KEYS[2 * i - 1], KEYS[2 * i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
  if not ok then reply = {'ERR', type(reply) == 'table' and reply.err or tostring(reply)} end
  replies[i] = reply
end
return replies
`;
const BATCH_COMMAND = "runlineJournalBatch";
const ARGS_PER_ITEM = 7;

type BatchCommand = (...args: Array<string | number>) => Promise<Array<[string, string?]>>;

/** Told the item's reply, or why it has none: once, in call order across a run's items. Must not throw. */
export type ReplyCallback = (err: unknown, reply?: ScriptReply) => void;

interface Queued {
  item: ScriptItem;
  done: ReplyCallback;
}

/** The promise of one reply, from a sender that answers a {@link ReplyCallback}. */
export function replyPromise(send: (done: ReplyCallback) => void): Promise<ScriptReply> {
  return new Promise((resolve, reject) => send((err, reply) => (err ? reject(err) : resolve(reply!))));
}

/** One item's answer; a callback that throws anyway must not cost the other runs of the batch theirs. */
function answer(q: Queued, err: unknown, reply?: ScriptReply): void {
  try {
    q.done(err, reply);
  } catch {
    /* the callback's own failure: the rest of the batch is still answered */
  }
}

interface Batch {
  queued: Queued[];
  bytes: number;
}

/**
 * Queues every append-script call of one event-loop turn and sends them as one script call per hash slot (one
 * for a single Redis), up to `maxItems` / `maxBytes` per call. Calls leave in the order they were made and each
 * item is answered with its own reply, so per run the call order stays the stored and published order. A call
 * that fails as a whole (the connection dropped) fails every item in it; an item the script could not apply
 * (WRONGTYPE…) fails alone.
 */
export class ScriptBatcher {
  private readonly command: BatchCommand;
  private readonly open = new Map<number, Batch>();
  private scheduled = false;
  private readonly maxItems: number;
  private readonly maxBytes: number;

  constructor(
    private readonly redis: Redis,
    private readonly maxLen: number,
    opts: ScriptBatchOptions = {},
  ) {
    this.maxItems = opts.maxItems ?? 256;
    this.maxBytes = opts.maxBytes ?? 1_000_000;
    // No numberOfKeys: each call passes its own.
    const publish = publishCommand(redis);
    this.command = defineScript<BatchCommand>(redis, `${BATCH_COMMAND}${publish}`, BATCH_LUA.replace("%PUBLISH%", publish));
  }

  send(item: ScriptItem): Promise<ScriptReply> {
    return replyPromise((done) => this.enqueue(item, done));
  }

  /**
   * {@link send} without a promise per item: a run's tokens are the bulk of all appends, and two promises each
   * (this one and its caller's reaction) were measurable per token.
   */
  enqueue(item: ScriptItem, done: ReplyCallback): void {
    // A script's keys must share a slot on a cluster; a run's keys do (its id is their hash tag).
    const slot = this.redis.isCluster ? calculateSlot(item.streamKey) : 0;
    const size = item.event.length + item.json.length;
    let batch = this.open.get(slot);
    if (batch && (batch.queued.length >= this.maxItems || batch.bytes + size > this.maxBytes)) {
      // Full: it goes now, ahead of everything queued after it.
      this.open.delete(slot);
      this.dispatch(batch);
      batch = undefined;
    }
    if (!batch) this.open.set(slot, (batch = { queued: [], bytes: 0 }));
    batch.bytes += size;
    batch.queued.push({ item, done });
    if (!this.scheduled) {
      // setImmediate, not a microtask: the model tokens of many runs arrive in timer and socket callbacks of
      // one loop phase, with microtasks run between each. Measured under the CPU benchmark (50 runs): ~12 items
      // per script call with setImmediate, ~1 with queueMicrotask.
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.open.values()];
    this.open.clear();
    for (const batch of batches) this.dispatch(batch);
  }

  private dispatch({ queued }: Batch): void {
    const n = queued.length;
    const args: Array<string | number> = new Array(2 + n * (2 + ARGS_PER_ITEM));
    args[0] = n * 2;
    let k = 1;
    for (const { item } of queued) {
      args[k++] = item.streamKey;
      args[k++] = item.fenceKey;
    }
    args[k++] = this.maxLen;
    for (const { item } of queued) {
      args[k++] = item.liveChannel;
      args[k++] = item.event;
      args[k++] = item.json;
      args[k++] = item.ttlSeconds;
      args[k++] = item.attempt;
      args[k++] = item.seq;
      args[k++] = item.mode;
    }
    let sent: Promise<Array<[string, string?]>>;
    try {
      sent = this.command(...args);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (replies) => {
        if (!Array.isArray(replies) || replies.length !== n) {
          const err = new Error(`journal batch script answered ${Array.isArray(replies) ? replies.length : typeof replies} replies for ${n} items`);
          for (const q of queued) answer(q, err);
          return;
        }
        // In order: a run's earlier appends settle before its later ones (flush and end rely on it).
        for (let i = 0; i < n; i++) {
          const reply = replies[i]!;
          if (reply[0] === "ERR") answer(queued[i]!, new ReplyError(reply[1] ?? "journal script error"));
          else answer(queued[i]!, null, reply);
        }
      },
      (err) => {
        for (const q of queued) answer(q, err);
      },
    );
  }
}
