// Everything the page takes from its URL.
//   ?api=http://host:port   the Runline API (default: this page's own origin, e.g. behind the Vite proxy)
//   ?thread=<id>            the thread shown; set by the page when it creates one, so a reload returns to it
//   ?reconnect=1            resumable streams: useStream's reconnectOnMount, a reload mid-run rejoins the run
//   ?tokens=N&delay=MS      pace of the built-in story model (config.configurable.story_tokens / _delay_ms)

const params = new URLSearchParams(window.location.search);

export const apiUrl = params.get("api") ?? window.location.origin;
export const initialThreadId = params.get("thread");
export const reconnect = params.get("reconnect") === "1";

function numberParam(name: string): number | undefined {
  const raw = params.get(name);
  if (raw == null || raw === "") return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const tokens = numberParam("tokens");
const delay = numberParam("delay");

/** The run config sent with every submit: the story pace when the URL sets one, else the server's defaults. */
export const runConfig =
  tokens === undefined && delay === undefined
    ? undefined
    : {
        configurable: {
          ...(tokens === undefined ? {} : { story_tokens: tokens }),
          ...(delay === undefined ? {} : { story_token_delay_ms: delay }),
        },
      };

/** Keeps `?thread=` in the address bar without reloading, so a reload shows the same thread. */
export function rememberThread(threadId: string | null): void {
  const url = new URL(window.location.href);
  if (threadId) url.searchParams.set("thread", threadId);
  else url.searchParams.delete("thread");
  window.history.replaceState(null, "", url);
}
