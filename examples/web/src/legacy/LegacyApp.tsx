import { useCallback, useState, type FormEvent } from "react";
import type { Message } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";
import { apiUrl, initialThreadId, reconnect, rememberThread, runConfig } from "../settings";
import { partialOf, ROLE, textOf } from "../story";

type StoryState = { messages: Message[] };

export function LegacyApp() {
  const [threadId, setThreadId] = useState<string | null>(initialThreadId);
  const onThreadId = useCallback((id: string) => {
    setThreadId(id);
    rememberThread(id);
  }, []);

  const stream = useStream<StoryState>({
    apiUrl,
    assistantId: "story",
    threadId,
    onThreadId,
    messagesKey: "messages",
    // History (not just the head state) is what useStream builds branches from.
    fetchStateHistory: true,
    // With it, runs are created resumable (on_disconnect: continue) and the run id is kept in sessionStorage:
    // a reload mid-run rejoins the run's stream, and stop() cancels through POST …/cancel.
    reconnectOnMount: reconnect,
  });

  const [draft, setDraft] = useState("");

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || stream.isLoading) return;
    setDraft("");
    const message: Message = { type: "human", content: text };
    void stream.submit(
      { messages: [message] },
      {
        config: runConfig,
        // Show the question at once, before the server echoes the state back.
        optimisticValues: (prev) => ({ ...prev, messages: [...(prev.messages ?? []), message] }),
      },
    );
  };

  const stop = () => {
    // The stock stop(): Runline saves the partial, and the thread read stop() makes right after waits for it.
    void stream.stop();
  };

  const newThread = () => {
    if (stream.isLoading) return;
    setThreadId(null);
    rememberThread(null);
  };

  const messages = stream.messages;

  return (
    <main>
      <header>
        <h1>Runline story</h1>
        <p className="meta">
          thread <code data-testid="thread-id">{threadId ?? "(new)"}</code>
          {" · "}
          <span data-testid="status" data-loading={stream.isLoading ? "1" : "0"}>
            {stream.isLoading ? "streaming…" : "idle"}
          </span>
          {reconnect ? " · resumable" : ""}
          {" · "}
          <button type="button" onClick={newThread} disabled={stream.isLoading}>
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
        {messages.length === 0 && <li className="empty">Ask for a story, stop it midway, then ask to continue.</li>}
        {messages.map((message, index) => {
          const partial = partialOf(message);
          const meta = message.type === "ai" ? stream.getMessagesMetadata(message, index) : undefined;
          const options = meta?.branchOptions ?? [];
          const current = meta?.branch;
          const at = current != null ? options.indexOf(current) : -1;
          const parent = meta?.firstSeenState?.parent_checkpoint;
          return (
            <li
              key={message.id ?? `index-${index}`}
              className={`message ${message.type}${partial ? " partial" : ""}`}
              data-testid="message"
              data-type={message.type}
              data-id={message.id ?? ""}
              data-partial={partial ? "1" : "0"}
            >
              <div className="role">
                {ROLE[message.type] ?? message.type}
                {partial && (
                  <span className="badge" data-testid="partial-badge" title={partial.reason ?? ""}>
                    stopped · partial, {partial.token_count ?? "?"} tokens kept
                  </span>
                )}
                {options.length > 1 && at >= 0 && (
                  <span className="branches" data-testid="branch-switcher">
                    <button type="button" aria-label="previous branch" disabled={at === 0 || stream.isLoading} onClick={() => stream.setBranch(options[at - 1]!)}>
                      ‹
                    </button>
                    <span data-testid="branch-position">
                      branch {at + 1} / {options.length}
                    </span>
                    <button
                      type="button"
                      aria-label="next branch"
                      disabled={at === options.length - 1 || stream.isLoading}
                      onClick={() => stream.setBranch(options[at + 1]!)}
                    >
                      ›
                    </button>
                  </span>
                )}
                {message.type === "ai" && parent && !stream.isLoading && (
                  <button
                    type="button"
                    className="retry"
                    data-testid="retry"
                    title="Write this answer again, as a new branch from the same point"
                    onClick={() => void stream.submit(undefined, { checkpoint: parent, config: runConfig })}
                  >
                    retry
                  </button>
                )}
              </div>
              <div className="content" data-testid="content">
                {textOf(message)}
              </div>
            </li>
          );
        })}
      </ol>

      <form onSubmit={send}>
        <input
          data-testid="input"
          aria-label="message"
          placeholder={messages.length ? "please continue the story" : "tell me a story"}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          autoFocus
        />
        <button type="submit" data-testid="send" disabled={stream.isLoading || !draft.trim()}>
          Send
        </button>
        <button type="button" data-testid="stop" disabled={!stream.isLoading} onClick={stop}>
          Stop
        </button>
      </form>
    </main>
  );
}
