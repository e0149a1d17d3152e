import { startTestRunline, type TestRunline } from "../harness";
import { ensureExampleBuilt } from "./build";
import { ensureChromium, launchChromium, type LaunchedBrowser } from "./chromium";
import { serveExample, type ExampleServer } from "./serve";

/** What a browser test file runs against: a test Runline, the built example page on its own port, and Chromium. */
export interface BrowserRig {
  t: TestRunline;
  srv: ExampleServer;
  browser: LaunchedBrowser;
  close(): Promise<void>;
}

/** How long `startBrowserRig` may take: installing Chromium (first run on a new machine) and building the page. */
export const BROWSER_RIG_START_MS = 12 * 60_000;

/** Starts the rig; on a failure part-way, what was started is closed again. */
export async function startBrowserRig(name: string): Promise<BrowserRig> {
  const executable = ensureChromium({ timeoutMs: 8 * 60_000 });
  const dist = ensureExampleBuilt({ timeoutMs: 3 * 60_000 });
  const t = await startTestRunline(name);
  let srv: ExampleServer | undefined;
  let browser: LaunchedBrowser | undefined;
  const close = async () => {
    await browser?.close();
    await srv?.close();
    await t.close();
  };
  try {
    srv = await serveExample(dist, t.url);
    browser = await launchChromium(executable);
  } catch (err) {
    await close();
    throw err;
  }
  return { t, srv, browser, close };
}
