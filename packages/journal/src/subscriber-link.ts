import type { Redis } from "ioredis";

/** What a {@link SubscriberLink} reports about its connection. */
export interface SubscriberLinkEvents {
  /** A message on one of its channels (`message`, or `smessage` for sharded pub/sub). */
  onMessage(channel: string, message: string): void;
  /** The connection was lost after it had been up: live delivery on its channels has a hole until `onBack`. */
  onDrop(): void;
  /** The connection came back and re-subscribed its channels: what was published after this is delivered. */
  onBack(): void;
  /** A connection attempt failed before the connection was ever up (the node may be gone). */
  onUnreachable(): void;
  onError(err: unknown): void;
}

/**
 * One pub/sub connection and the ordering rules it needs: (un)subscribes wait for the connection's 'ready', and
 * a reconnect is reported only once its re-subscribes were acknowledged.
 */
export interface SubscriberLink {
  readonly connection: Redis;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Disconnects for good (no reconnect, no more events); pending commands fail. */
  retire(): void;
  /** Quits politely for good. */
  close(): Promise<void>;
}

/** Wraps `connection` (not yet used for anything); `sharded` uses SSUBSCRIBE / SUNSUBSCRIBE / `smessage`. */
export function createSubscriberLink(connection: Redis, sharded: boolean, events: SubscriberLinkEvents): SubscriberLink {
  let done = false;
  let connectedBefore = false;
  // ioredis runs its ready check (INFO) once connected. A SUBSCRIBE written before that (ioredis writes commands
  // allowed while Redis loads, SUBSCRIBE among them, as soon as the socket connects) puts the connection in
  // subscriber mode, the INFO is refused and the connection drops ("only subscriber commands may be used"). So
  // (un)subscribes wait for 'ready', in call order, each time the connection comes back too: the gate closes on
  // 'close' and opens on the next 'ready'. Retiring opens it for good (the commands then fail).
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
  const whenReady = <T>(command: () => Promise<T>): Promise<T> => (notReady ? notReady.then(command) : command());

  connection.on("error", (err: unknown) => {
    if (!done) events.onError(err);
  });
  connection.on(sharded ? "smessage" : "message", (channel: string, message: string) => {
    if (!done) events.onMessage(channel, message);
  });
  connection.on("close", () => {
    if (done) return;
    closeGate();
    if (connectedBefore) events.onDrop();
    else events.onUnreachable();
  });
  connection.on("ready", () => {
    release();
    if (done) return;
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    // ioredis re-sends the (S)SUBSCRIBEs of the old channels as it becomes ready (it emits 'ready' on the next
    // tick), so a PING queued now is answered after their acks: listeners re-read the stream only once live
    // delivery is back.
    setImmediate(() => {
      connection.ping().then(() => {
        if (!done) events.onBack();
      }, events.onError);
    });
  });

  const finish = () => {
    done = true;
    release();
  };
  return {
    connection,
    subscribe: (channel) => whenReady(() => (sharded ? connection.ssubscribe(channel) : connection.subscribe(channel))),
    unsubscribe: (channel) => whenReady(() => (sharded ? connection.sunsubscribe(channel) : connection.unsubscribe(channel))),
    retire() {
      finish();
      connection.disconnect();
    },
    async close() {
      finish();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
