import calculateSlot from "cluster-key-slot";
import type { Cluster, Redis } from "ioredis";
import { decodeLiveMessage, type JournalEntry } from "./entry";
import { journalKeys } from "./keys";
import { nodeSubscriberConnection, subscriberConnection, usesShardedPubSub } from "./redis-connection";
import { createSubscriberLink, type SubscriberLink } from "./subscriber-link";

/** Options of {@link createJournalHub}. */
export interface JournalHubOptions {
  /** `CLIENT SETNAME` of the subscriber connection, so ops can find it in `CLIENT LIST`. @defaultValue "runline:journal-hub" */
  connectionName?: string;
  /** Receives errors of the subscriber connection and exceptions thrown by listeners. @defaultValue ignore them */
  onError?: (err: unknown) => void;
}

/** Extra callbacks of one listener. */
export interface ListenOptions {
  /**
   * Called after the subscriber connection reconnected and re-subscribed. Pub/sub drops messages published
   * while disconnected, so a listener that must not miss entries re-reads the stream from its last id.
   */
  onResync?: () => void;
  /**
   * Called when the subscriber connection is lost. Until `onResync`, live delivery has a hole in it: a
   * listener that yields live entries must hold them back, or an entry that arrives after the re-subscribe but
   * before the resync would be passed on ahead of the ones published while disconnected (and they would look
   * like duplicates once read back from the stream).
   */
  onDisconnect?: () => void;
  /** Called when the hub closes with this listener still attached: no more entries will come. */
  onClosed?: () => void;
}

/**
 * One pub/sub connection per process (on a cluster: one per master that owns a listened run's slot), shared by
 * every live journal listener in it.
 */
export interface JournalHub {
  /** The key prefix this hub subscribes under. */
  readonly prefix: string;
  /**
   * Adds a listener for a run's live entries. Resolves once Redis acknowledged the subscription, so anything
   * appended afterwards reaches `onEntry`; resolves to the function that removes the listener (idempotent).
   * The run's channel is subscribed for the first listener and unsubscribed when the last one leaves.
   * `onEntry` gets the same entry object as every other listener: do not mutate it.
   */
  listen(runId: string, onEntry: (entry: JournalEntry) => void, opts?: ListenOptions): Promise<() => void>;
  /** Drops every listener (calling its `onClosed`) and closes the subscriber connection. */
  close(): Promise<void>;
}

interface Listener extends ListenOptions {
  onEntry: (entry: JournalEntry) => void;
}

interface Channel {
  name: string;
  listeners: Set<Listener>;
  /** The node whose link carries it ("" for a single Redis); undefined until its owner is known. */
  node?: string;
  /** Set while live delivery has a hole (its link dropped, or it is moving to another node), until resynced. */
  suspended: boolean;
  /** Settles with the first subscription acknowledged (or the first failure of the current attempt). */
  ready: Promise<void>;
  settle(err?: unknown): void;
  /** Counts subscription attempts: only the latest one's outcome counts. */
  attempt: number;
  /** The latest attempt was acknowledged. */
  acked: boolean;
  /** Delay of the next retry of an unanswered or failed subscription (doubles up to RETRY_MAX_MS). */
  retryMs: number;
  retryTimer?: NodeJS.Timeout;
}

/**
 * Retries of a subscription answered MOVED (ioredis never settles it) or refused: first after 200 ms, while the
 * masters come to agree on the new owner, then backing off, so a migration left half-done costs little.
 */
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 5_000;
/** The hub asks for a slot map refresh at most this often (ioredis merges only the ones already in flight). */
const REFRESH_MIN_INTERVAL_MS = 250;

const SINGLE_NODE = "";

/**
 * Creates the hub. A thousand SSE viewers then cost one connection and one `SUBSCRIBE` per run, not a thousand
 * blocking reads. On a single Redis the connection is a duplicate of `redis` (a connection in subscriber mode
 * can run nothing else). On a Redis Cluster the journal publishes with SPUBLISH (sharded pub/sub: a message
 * stays on the shard that owns the run's slot instead of crossing the cluster bus to every node), so the hub
 * SSUBSCRIBEs each run's channel on the master that owns its slot, over one connection per such master. When a
 * slot moves (resharding, a failover) its channels are subscribed again on the new owner, and their listeners are
 * told (disconnect, then resync) so they re-read the stream: nothing published meanwhile is lost.
 */
export function createJournalHub(redis: Redis, prefix: string, opts: JournalHubOptions = {}): JournalHub {
  const onError = opts.onError ?? (() => undefined);
  const keys = journalKeys(prefix);
  const connectionName = opts.connectionName ?? "runline:journal-hub";
  // Undefined on a single Redis, and on a cluster with sharded pub/sub off: one plain link to the seed then.
  const cluster = usesShardedPubSub(redis) ? (redis as unknown as Cluster) : undefined;
  const links = new Map<string, SubscriberLink>();
  const channels = new Map<string, Channel>();
  let closed = false;
  let onClose: () => void = () => undefined;
  const whenClosed = new Promise<void>((resolve) => (onClose = resolve));

  const channelsOn = (node: string) => [...channels.values()].filter((channel) => channel.node === node);
  const suspend = (channel: Channel) => {
    channel.suspended = true;
    for (const listener of channel.listeners) listener.onDisconnect?.();
  };
  const resync = (channel: Channel) => {
    channel.suspended = false;
    for (const listener of channel.listeners) listener.onResync?.();
  };
  let lastRefresh = 0;
  let refreshTimer: NodeJS.Timeout | undefined;
  const refreshSlots = () => {
    if (!cluster || closed || refreshTimer) return;
    const wait = lastRefresh + REFRESH_MIN_INTERVAL_MS - Date.now();
    const refresh = () => {
      refreshTimer = undefined;
      lastRefresh = Date.now();
      if (!closed) cluster.refreshSlotsCache();
    };
    if (wait <= 0) refresh();
    else refreshTimer = setTimeout(refresh, wait).unref();
  };
  /** Subscribes `channel` again later, unless a newer attempt was acknowledged meanwhile. */
  const retryLater = (channel: Channel) => {
    if (channel.retryTimer || closed) return;
    const delay = channel.retryMs;
    channel.retryMs = Math.min(delay * 2, RETRY_MAX_MS);
    channel.retryTimer = setTimeout(() => {
      channel.retryTimer = undefined;
      if (!closed && channels.get(channel.name) === channel && !channel.acked) void attach(channel);
    }, delay).unref();
  };
  /**
   * Moves one channel to wherever the slot map says it belongs now; only it re-reads its stream. No SUNSUBSCRIBE
   * on the old owner: a master that loses a slot drops its shard subscriptions itself (the push above), and a
   * command sent there now would meet ioredis' reply matching mid-repair.
   */
  const moveChannel = (channel: Channel) => {
    suspend(channel);
    channel.node = undefined;
    void attach(channel);
  };

  function linkOf(node: string): SubscriberLink {
    const existing = links.get(node);
    if (existing) return existing;
    const connection = cluster ? nodeSubscriberConnection(redis, node, connectionName) : subscriberConnection(redis, connectionName);
    const link = createSubscriberLink(connection, !!cluster, {
      onMessage(name, message) {
        const channel = channels.get(name);
        if (!channel || channel.node !== node) return;
        const entry = decodeLiveMessage(message);
        if (!entry) return onError(new Error(`Malformed journal live message on ${name}`));
        for (const listener of channel.listeners) {
          try {
            listener.onEntry(entry);
          } catch (err) {
            onError(err);
          }
        }
      },
      onDrop() {
        for (const channel of channelsOn(node)) suspend(channel);
        // The node may have failed over: a slot map refresh moves its channels to the new owner.
        refreshSlots();
      },
      onBack() {
        for (const channel of channelsOn(node)) resync(channel);
      },
      onUnreachable() {
        // Never connected: a master that died before we first reached it. Its replica may own the slots now.
        refreshSlots();
      },
      onError(err) {
        // A slot that left this node unsubscribes its shard channels with a push ioredis did not ask for. ioredis
        // matches it to the next pending command; with none pending it reports a command queue state error whose
        // last reply is that `sunsubscribe`, and the connection is still in step: move that channel alone.
        // Otherwise the replies went off by one (a subscribe resolved by the wrong reply, messages taken for
        // replies) until the error: the connection cannot be trusted, so replace it (its channels resync). Either
        // way refresh the slot map, so the moved ones go to their new owner.
        const message = String((err as Error)?.message);
        if (!cluster || !/Command queue state error/i.test(message)) return onError(err);
        refreshSlots();
        if (links.get(node) !== link) return;
        const unsubscribed = /Last reply: sunsubscribe,(.*),\d+$/.exec(message)?.[1];
        if (unsubscribed === undefined) return replaceLink(node);
        const channel = channels.get(unsubscribed);
        if (channel?.node === node) moveChannel(channel);
      },
    });
    // An SSUBSCRIBE answered with MOVED (our slot map was stale, or the nodes do not agree yet): ioredis drops
    // the command, never settles it, and emits this. Refresh the map, and later subscribe again every channel
    // of this link still unanswered, wherever the map says it belongs then.
    if (cluster) {
      connection.on("moved", () => {
        refreshSlots();
        if (links.get(node) !== link) return;
        for (const channel of channelsOn(node)) if (!channel.acked) retryLater(channel);
      });
    }
    links.set(node, link);
    return link;
  }

  /** The node that owns `name`'s slot, once the cluster's slot map knows it (at once on a single Redis). */
  async function ownerOf(name: string): Promise<string | undefined> {
    if (!cluster) return SINGLE_NODE;
    const slot = calculateSlot(name);
    while (!closed) {
      const owner = cluster.slots[slot]?.[0];
      if (owner) return owner;
      await Promise.race([nextRefresh(cluster), whenClosed]);
    }
    return undefined;
  }

  /** Subscribes `channel` on its owner's link; a successful attempt that follows a suspension resyncs it. */
  async function attach(channel: Channel): Promise<void> {
    const attempt = ++channel.attempt;
    channel.acked = false;
    const owner = await ownerOf(channel.name);
    if (owner === undefined || channels.get(channel.name) !== channel || channel.attempt !== attempt) return;
    channel.node = owner;
    try {
      await linkOf(owner).subscribe(channel.name);
    } catch (err) {
      if (channel.attempt !== attempt) return;
      channel.settle(err);
      // Refused (CLUSTERDOWN, a link replaced under it): its listeners that joined before still wait for it.
      if (channels.get(channel.name) === channel) retryLater(channel);
      return;
    }
    if (channel.attempt !== attempt || channels.get(channel.name) !== channel) return;
    channel.acked = true;
    channel.retryMs = RETRY_FIRST_MS;
    channel.settle();
    if (channel.suspended) resync(channel);
  }

  /** Replaces the link to `node`: its channels are suspended and subscribed again wherever they belong now. */
  function replaceLink(node: string) {
    const link = links.get(node);
    links.delete(node);
    link?.retire();
    for (const channel of channelsOn(node)) moveChannel(channel);
  }

  // On a cluster, every slot map refresh (createRedis has ioredis make one every 5 s; the hub asks for more)
  // checks each channel's owner: a channel whose slot moved goes to its new owner (the other channels of its
  // old master are left alone), and a link to a node that is no master any more is closed (it would retry
  // forever).
  const onRefresh = () => {
    if (closed || !cluster) return;
    const masters = new Set(cluster.nodes("master").map((n) => `${n.options.host}:${n.options.port}`));
    for (const node of [...links.keys()]) if (!masters.has(node)) replaceLink(node);
    for (const channel of [...channels.values()]) {
      const owner = cluster.slots[calculateSlot(channel.name)]?.[0];
      if (channel.node !== undefined && owner && owner !== channel.node) moveChannel(channel);
    }
  };
  cluster?.on("refresh", onRefresh);

  // A single Redis: connect now, as a process that serves streams will need it (and its failures show early).
  if (!cluster) linkOf(SINGLE_NODE);

  async function listen(runId: string, onEntry: (entry: JournalEntry) => void, listenOpts: ListenOptions = {}) {
    if (closed) throw new Error("Journal hub is closed");
    const name = keys.live(runId);
    let channel = channels.get(name);
    if (!channel) {
      let settle: (err?: unknown) => void = () => undefined;
      const ready = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
      channel = { name, listeners: new Set(), suspended: false, ready, settle, attempt: 0, acked: false, retryMs: RETRY_FIRST_MS };
      ready.catch(() => undefined); // its listeners see the failure; no listener left, no one to tell
      channels.set(name, channel);
      // Commands on one connection run in order, so a SUBSCRIBE sent after a pending UNSUBSCRIBE of the same
      // channel (last listener just left) still leaves the channel subscribed.
      void attach(channel);
    }
    const listener: Listener = { ...listenOpts, onEntry };
    const owner = channel;
    owner.listeners.add(listener);
    // Joining a channel whose live delivery has a hole: held back until the resync, like the ones already there.
    if (owner.suspended) listener.onDisconnect?.();
    const leave = () => {
      if (!owner.listeners.delete(listener) || owner.listeners.size > 0) return;
      if (channels.get(name) === owner) channels.delete(name);
      const link = owner.node === undefined ? undefined : links.get(owner.node);
      if (!closed && link) link.unsubscribe(name).catch(onError);
    };
    try {
      await owner.ready;
      if (closed) throw new Error("Journal hub is closed");
    } catch (err) {
      leave();
      throw err;
    }
    return leave;
  }

  return {
    prefix,
    listen,
    async close() {
      if (closed) return;
      closed = true;
      onClose();
      cluster?.off("refresh", onRefresh);
      clearTimeout(refreshTimer);
      for (const channel of channels.values()) clearTimeout(channel.retryTimer);
      const orphans = [...channels.values()].flatMap((channel) => [...channel.listeners]);
      for (const channel of channels.values()) channel.settle(new Error("Journal hub is closed"));
      channels.clear();
      for (const listener of orphans) listener.onClosed?.();
      const open = [...links.values()];
      links.clear();
      await Promise.all(open.map((link) => link.close()));
    },
  };
}

const refreshes = new WeakMap<Cluster, Promise<void>>();
/** Resolves at the cluster's next slot map refresh; one listener however many wait. */
function nextRefresh(cluster: Cluster): Promise<void> {
  let next = refreshes.get(cluster);
  if (!next) {
    next = new Promise<void>((resolve) =>
      cluster.once("refresh", () => {
        refreshes.delete(cluster);
        resolve();
      }),
    );
    refreshes.set(cluster, next);
  }
  return next;
}
