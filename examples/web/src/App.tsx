import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useMessageMetadata, useStream, type AnyStream } from "@langchain/react";
import type { BaseMessage } from "@langchain/core/messages";
import { apiUrl, initialThreadId, rememberThread, runConfig } from "./settings";
import { partialOf, ROLE, textOf, typeOf, type RunlinePartial } from "./story";

/**
 * The story page on `@langchain/react` 1.x (LangGraph protocol v2: `POST …/commands`, `POST …/stream/events`).
 * The 0.x-style page, on the legacy hook, is legacy.html.
 */
export function App() {
  const [threadId, setThreadId] = useState<string | null>(initialThreadId);
  const onThreadId = useCallback((id: string) => {
    setThreadId(id);
    rememberThread(id);
  }, []);
  // A fork rewinds the thread to an earlier step, and @langchain/react 1.1.0 merges a snapshot of an earlier step
  // into what it shows (it takes it for a lagging replay), so the old turns stay on the page. Once the fork's run
  // has ended the thread view is mounted afresh, which hydrates it from GET /state.
  const [generation, setGeneration] = useState(0);
  const reopen = useCallback(() => setGeneration((g) => g + 1), []);
  return <ThreadView key={generation} threadId={threadId} setThreadId={setThreadId} onThreadId={onThreadId} onForked={reopen} />;
}

interface ThreadViewProps {
  threadId: string | null;
  setThreadId(id: string | null): void;
  onThreadId(id: string): void;
  onForked(): void;
}

function ThreadView({ threadId, setThreadId, onThreadId, onForked }: ThreadViewProps) {
  const stream = useStream({ apiUrl, assistantId: "story", threadId, onThreadId, messagesKey: "messages" });

  const fork = async (input: ForkInput, forkFrom: string) => {
    await stream.submit(input, { forkFrom, config: runConfig });
    // submit() can settle on a terminal event replayed from an earlier run of the thread, before the fork's run
    // has written anything: join the thread's newest run (GET …/runs/{id}/join returns once it has ended) first.
    const id = stream.threadId;
    const [newest] = id ? await stream.client.runs.list(id, { limit: 1 }).catch(() => []) : [];
    if (id && newest) await stream.client.runs.join(id, newest.run_id).catch(() => undefined);
    onForked();
  };
  const [draft, setDraft] = useState("");

  // Runline's partial marker lives on the server's copy of a message. A tab that streamed the message keeps its
  // own copy (the hook's reconciliation prefers it over a `values` echo whose content is shaped differently), so
  // the marker is read from the thread state: on hydrate (`values` is the server's then) and after each stop.
  const [fetched, setFetched] = useState<SavedMessages>(() => new Map());
  useEffect(() => setFetched(new Map()), [threadId]);
  const saved = useMemo(() => new Map([...savedMessages((stream.values as { messages?: unknown[] }).messages), ...fetched]), [stream.values, fetched]);

  const stop = async () => {
    await stream.stop();
    const id = stream.threadId;
    if (!id) return;
    // GET /state waits (bounded) for a stop in progress on the thread to save its partial.
    const state = await stream.client.threads.getState<{ messages?: unknown[] }>(id);
    setFetched(savedMessages(state.values?.messages));
  };

  const busy = stream.isLoading || stream.isThreadLoading;

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || busy) return;
    setDraft("");
    void stream.submit({ messages: [{ type: "human", content: text }] }, { config: runConfig });
  };

  const newThread = () => {
    if (busy) return;
    setThreadId(null);
    rememberThread(null);
  };

  return (
    <main>
      <header>
        <h1>Runline story</h1>
        <p className="meta">
          thread <code data-testid="thread-id">{threadId ?? "(new)"}</code>
          {" · "}
          <span data-testid="status" data-loading={stream.isLoading ? "1" : "0"} data-thread-loading={stream.isThreadLoading ? "1" : "0"}>
            {stream.isThreadLoading ? "loading thread…" : stream.isLoading ? "streaming…" : "idle"}
          </span>
          {" · @langchain/react 1.x · "}
          <a href={`legacy.html${window.location.search}`}>legacy hook</a>
          {" · "}
          <button type="button" onClick={newThread} disabled={busy}>
            New thread
          </button>
        </p>
      </header>

      {stream.error != null && (
        <p className="error" data-testid="error">
          {String((stream.error as Error)?.message ?? stream.error)}
        </p>
      )}

      <ol className="messages" data-testid="messages">
        {stream.messages.length === 0 && <li className="empty">Ask for a story, stop it midway, then ask to continue.</li>}
        {stream.messages.map((message, index) => (
          <MessageRow
            key={message.id ?? `index-${index}`}
            stream={stream}
            message={message}
            saved={message.id ? saved.get(message.id) : undefined}
            busy={busy}
            onFork={(input, forkFrom) => void fork(input, forkFrom)}
          />
        ))}
      </ol>

      <form onSubmit={send}>
        <input
          data-testid="input"
          aria-label="message"
          placeholder={stream.messages.length ? "please continue the story" : "tell me a story"}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          autoFocus
        />
        <button type="submit" data-testid="send" disabled={busy || !draft.trim()}>
          Send
        </button>
        {/* stop(): POST …/runs/{id}/cancel?action=interrupt; Runline saves what was written into the thread. */}
        <button type="button" data-testid="stop" disabled={!stream.isLoading} onClick={() => void stop()}>
          Stop
        </button>
      </form>
    </main>
  );
}

/** The server's partials by message id: their marker and the text that was saved. */
type SavedMessages = Map<string, { partial: RunlinePartial; text: string }>;

function savedMessages(messages: unknown[] | undefined): SavedMessages {
  const byId: SavedMessages = new Map();
  for (const m of (messages ?? []) as Parameters<typeof partialOf>[0][]) {
    const partial = partialOf(m);
    if (partial && m?.id) byId.set(m.id, { partial, text: textOf(m) });
  }
  return byId;
}

type ForkInput = { messages: { type: string; content: string }[] } | undefined;

interface MessageRowProps {
  stream: AnyStream;
  message: BaseMessage;
  saved: { partial: RunlinePartial; text: string } | undefined;
  busy: boolean;
  onFork(input: ForkInput, forkFrom: string): void;
}

/**
 * One message, with "fork" from the checkpoint before it (`useMessageMetadata(...).parentCheckpointId`): an
 * answer is written again from its question, a question is asked again from before it. Either way a new branch.
 */
function MessageRow({ stream, message, saved, busy, onFork }: MessageRowProps) {
  const type = typeOf(message as Parameters<typeof typeOf>[0]);
  const partial = saved?.partial ?? partialOf(message as Parameters<typeof partialOf>[0]);
  // A stopped message shows exactly what the server kept (a few tokens may have been on the wire at the click).
  const text = saved?.text ?? textOf(message as Parameters<typeof textOf>[0]);
  // The hook re-pairs every message of each `values` snapshot with that snapshot's parent checkpoint, so after a
  // later turn an old message would point at the latest turn's start. The first checkpoint seen for it is the
  // one before it (or, on a page that hydrated mid-thread, the head's parent: right for the last message).
  const latest = useMessageMetadata(stream, message.id)?.parentCheckpointId;
  const firstSeen = useRef<string | undefined>(undefined);
  if (firstSeen.current === undefined && latest !== undefined) firstSeen.current = latest;
  const parentCheckpointId = firstSeen.current;
  const fork = () => {
    if (!parentCheckpointId) return;
    onFork(type === "human" ? { messages: [{ type: "human", content: text }] } : undefined, parentCheckpointId);
  };
  return (
    <li
      className={`message ${type}${partial ? " partial" : ""}`}
      data-testid="message"
      data-type={type}
      data-id={message.id ?? ""}
      data-partial={partial ? "1" : "0"}
      data-parent-checkpoint={parentCheckpointId ?? ""}
    >
      <div className="role">
        {ROLE[type] ?? type}
        {partial && (
          <span className="badge" data-testid="partial-badge" title={partial.reason ?? ""}>
            stopped · partial, {partial.token_count ?? "?"} tokens kept
          </span>
        )}
        {parentCheckpointId && !busy && (type === "ai" || type === "human") && (
          <button type="button" className="retry" data-testid="fork" title="Run again from the point before this message, as a new branch" onClick={fork}>
            {type === "ai" ? "retry (fork)" : "ask again (fork)"}
          </button>
        )}
      </div>
      <div className="content" data-testid="content">
        {text}
      </div>
    </li>
  );
}
