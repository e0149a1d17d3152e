import type { Redis } from "ioredis";
import { subscriberConnection } from "./redis-connection";
import { decodeLiveMessage, type JournalEntry } from "./entry";
import { journalKeys } from "./keys";

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

/** One pub/sub connection per process, shared by every live journal listener in it. */
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
  listeners: Set<Listener>;
  subscribed: Promise<unknown>;
}

/**
 * Creates the hub on a duplicate of `redis` (a connection in subscriber mode can run nothing else). A thousand
 * SSE viewers then cost one connection and one `SUBSCRIBE` per run, not a thousand blocking reads.
 */
export function createJournalHub(redis: Redis, prefix: string, opts: JournalHubOptions = {}): JournalHub {
  const onError = opts.onError ?? (() => undefined);
  const keys = journalKeys(prefix);
  const connectionName = opts.connectionName ?? "runline:journal-hub";
  // Plain SUBSCRIBE on any node of a cluster hears every node's PUBLISH, so one subscriber connection still
  // serves the whole process.
  const sub = subscriberConnection(redis, connectionName);
  const channels = new Map<string, Channel>();
  let closed = false;
  let connectedBefore = false;
  // ioredis runs its ready check (INFO) once connected. A SUBSCRIBE written before that (ioredis writes commands
  // allowed while Redis loads, SUBSCRIBE among them, as soon as the socket connects) puts the connection in
  // subscriber mode, the INFO is refused and the connection drops ("only subscriber commands may be used"). So
  // (un)subscribes wait for 'ready', in call order, each time the connection comes back too: the gate closes on
  // 'close' and opens on the next 'ready'. `close` opens it for good (the commands then fail).
  let release: () => void = () => undefined;
  let notReady: Promise<void> | null = null;
  const closeGate = () => {
    if (notReady) return;
    const gate = new Promise<void>((resolve) => (release = resolve));
    notReady = gate;
    gate.then(() => {
      if (notReady === gate) notReady = null;
    });
  };
  closeGate();
  sub.on("ready", () => release());
  const whenReady = <T>(command: () => Promise<T>): Promise<T> => (notReady ? notReady.then(command) : command());

  sub.on("error", onError);
  sub.on("message", (channelName: string, message: string) => {
    const channel = channels.get(channelName);
    if (!channel) return;
    const entry = decodeLiveMessage(message);
    if (!entry) return onError(new Error(`Malformed journal live message on ${channelName}`));
    for (const listener of channel.listeners) {
      try {
        listener.onEntry(entry);
      } catch (err) {
        onError(err);
      }
    }
  });
  sub.on("close", () => {
    if (closed) return;
    closeGate();
    if (!connectedBefore) return;
    for (const channel of channels.values()) for (const listener of channel.listeners) listener.onDisconnect?.();
  });
  sub.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    // ioredis emits 'ready' and only then re-sends SUBSCRIBE for the old channels. A PING queued after that is
    // answered after the re-subscribe acks, so listeners re-read the stream only once live delivery is back.
    setImmediate(() => {
      sub.ping().then(() => {
        for (const channel of channels.values()) for (const listener of channel.listeners) listener.onResync?.();
      }, onError);
    });
  });

  async function listen(runId: string, onEntry: (entry: JournalEntry) => void, listenOpts: ListenOptions = {}) {
    if (closed) throw new Error("Journal hub is closed");
    const name = keys.live(runId);
    let channel = channels.get(name);
    if (!channel) {
      // Commands on one connection run in order, so a SUBSCRIBE sent after a pending UNSUBSCRIBE of the same
      // channel (last listener just left) still leaves the channel subscribed.
      channel = { listeners: new Set(), subscribed: whenReady(() => sub.subscribe(name)) };
      channels.set(name, channel);
    }
    const listener: Listener = { ...listenOpts, onEntry };
    const owner = channel;
    owner.listeners.add(listener);
    const leave = () => {
      if (!owner.listeners.delete(listener) || owner.listeners.size > 0) return;
      if (channels.get(name) === owner) channels.delete(name);
      if (!closed) whenReady(() => sub.unsubscribe(name)).catch(onError);
    };
    try {
      await owner.subscribed;
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
      release();
      const orphans = [...channels.values()].flatMap((channel) => [...channel.listeners]);
      channels.clear();
      for (const listener of orphans) listener.onClosed?.();
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
