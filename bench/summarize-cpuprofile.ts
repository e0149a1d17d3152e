// Aggregates a V8 .cpuprofile (from `node --cpu-prof`) into self time by function, by package and by
// category, optionally cut down to one benchmark phase. Usage:
//
//   npx tsx bench/summarize-cpuprofile.ts [PROFILE.cpuprofile | DIR (newest profile in it)]
//       [--window concurrent-runline]  only samples inside that phase's windows, as run-bench.ts recorded them in
//                                      windows.json next to the profile (or bench/out/windows.json)
//       [--windows FILE]               another windows file
//       [--top 25]                     rows per table
//       [--callers REGEX]              who calls the functions matching REGEX (by inclusive time), repeatable
//       [--issuers REGEX]              which package issued the samples under a frame matching REGEX, repeatable
//       [--compare PROFILE|DIR --compare-window LABEL [--compare-windows FILE]]
//                                      also show what the first profile spends beyond the second (e.g. Runline
//                                      minus in-process for the same work), by issuing package and by function
//       [--json FILE]                  also write the aggregates as JSON
//       [--write-results]              replace the "Foundation: CPU profile" section of bench/RESULTS.md
//
// Builtins without a script (JSON.stringify, RegExp, TextDecoder, …) carry no URL, so they are charged to the
// package of their nearest JavaScript caller: "JSON.stringify called from the journal writer" then counts
// towards @runline/journal, which is what one wants to know when looking for a fix.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeSection } from "./lib/results-md";

const REPO_ROOT = path.resolve(__dirname, "..");

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  label: string;
  startUs: number;
  endUs: number;
}

/** V8's pseudo-frames: not code, but what the thread was doing. */
const PSEUDO = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

// ------------------------------------------------------------------------------------------- attribution

/** npm package (last node_modules segment wins), workspace package, Node core module, or a pseudo bucket. */
export function packageOf(url: string): string | null {
  if (!url) return null; // builtin: charged to the caller
  const clean = url.replace(/^file:\/\//, "");
  const nm = clean.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = clean.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (clean.startsWith("node:")) {
    // node:internal/streams/writable → node:streams; node:events → node:events
    const parts = clean.slice(5).split("/");
    return `node:${parts[0] === "internal" ? parts[1] ?? "internal" : parts[0]}`.replace(/\.js$/, "");
  }
  const rel = path.relative(REPO_ROOT, clean);
  const ws = /^(packages|apps)\/([^/]+)\//.exec(rel);
  if (ws) return ws[1] === "apps" ? `@runline/${ws[2]} (app)` : `@runline/${ws[2]}`;
  if (rel.startsWith("bench/")) return "bench (client)";
  return rel.startsWith("..") ? clean : rel;
}

function shortUrl(url: string): string {
  const clean = url.replace(/^file:\/\//, "");
  const nm = clean.lastIndexOf("/node_modules/");
  if (nm >= 0) return clean.slice(nm + "/node_modules/".length);
  return clean.startsWith("/") ? path.relative(REPO_ROOT, clean) : clean;
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return `${name} [builtin]`;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

interface Aggregates {
  totalMs: number;
  sampledMs: number;
  byCategory: Map<string, number>;
  byPackage: Map<string, number>;
  byFunction: Map<string, number>;
  /** Builtins by the JS function that called them ("JSON.stringify ← encode journal-writer.ts:…"). */
  builtinsByCaller: Map<string, number>;
  /** Inclusive (self + callees) time per function, each sample counted once per function. */
  inclusiveByFunction: Map<string, number>;
  /**
   * Like byPackage, but Node core (`node:*`) and builtins are charged to the nearest caller outside Node core:
   * socket writes then count towards ioredis, pg or the HTTP server that issued them.
   */
  byIssuingPackage: Map<string, number>;
  /** Per `--callers` pattern: inclusive time of the outermost matching frame, by its caller. */
  callers: Map<string, Map<string, number>>;
  /** Per `--issuers` pattern: time of samples under a matching frame, by issuing package (see byIssuingPackage). */
  issuers: Map<string, Map<string, number>>;
}

function add(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

/** Each sample lasts until the next one (the DevTools convention); samples outside `windows` are skipped. */
export function aggregate(
  profile: CpuProfile,
  windows: Window[] | null,
  callerPatterns: RegExp[] = [],
  issuerPatterns: RegExp[] = [],
): Aggregates {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const agg: Aggregates = {
    totalMs: 0,
    sampledMs: 0,
    byCategory: new Map(),
    byPackage: new Map(),
    byFunction: new Map(),
    builtinsByCaller: new Map(),
    inclusiveByFunction: new Map(),
    byIssuingPackage: new Map(),
    callers: new Map(callerPatterns.map((re) => [String(re), new Map()])),
    issuers: new Map(issuerPatterns.map((re) => [String(re), new Map()])),
  };
  const inWindow = (t: number) => !windows || windows.some((w) => t >= w.startUs && t <= w.endUs);

  let t = profile.startTime;
  const stamps = profile.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = ((stamps[i + 1] ?? profile.endTime) - stamps[i]!) / 1000;
    if (!inWindow(stamps[i]!) || ms <= 0) continue;
    agg.totalMs += ms;
    const leaf = byId.get(profile.samples[i]!)!;
    const name = leaf.callFrame.functionName;
    if (PSEUDO.has(name) && !leaf.callFrame.url) {
      add(agg.byCategory, name, ms);
      continue;
    }
    agg.sampledMs += ms;
    add(agg.byCategory, "(javascript + builtins)", ms);
    add(agg.byFunction, functionKey(leaf.callFrame), ms);

    // Walk up to the nearest frame with a script to find who pays for a builtin, and collect the stack.
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!);
    const payer = stack.find((n) => n.callFrame.url);
    add(agg.byPackage, payer ? packageOf(payer.callFrame.url)! : "(builtin, no JS caller)", ms);
    if (!leaf.callFrame.url && payer) add(agg.builtinsByCaller, `${name || "(anonymous)"} ← ${functionKey(payer.callFrame)}`, ms);

    const issuer = stack.find((n) => n.callFrame.url && !n.callFrame.url.startsWith("node:"));
    const issuingPackage = issuer ? packageOf(issuer.callFrame.url)! : "(node event loop / core, no package caller)";
    add(agg.byIssuingPackage, issuingPackage, ms);
    for (const re of issuerPatterns) {
      const hit = stack.find((n) => re.test(functionKey(n.callFrame)));
      if (hit) add(agg.issuers.get(String(re))!, `${issuingPackage} (${functionKey(issuer?.callFrame ?? hit.callFrame)})`, ms);
    }

    for (const re of callerPatterns) {
      // Outermost match, so recursion and wrappers of the same name are counted once.
      let index = -1;
      for (let k = stack.length - 1; k >= 0; k--) if (re.test(functionKey(stack[k]!.callFrame))) { index = k; break; }
      if (index < 0) continue;
      const caller = stack.slice(index + 1).find((n) => !(PSEUDO.has(n.callFrame.functionName) && !n.callFrame.url));
      add(agg.callers.get(String(re))!, `${functionKey(stack[index]!.callFrame)} ← ${caller ? functionKey(caller.callFrame) : "(root)"}`, ms);
    }

    const seen = new Set<string>();
    for (const n of stack) {
      if (PSEUDO.has(n.callFrame.functionName) && !n.callFrame.url) continue;
      const key = functionKey(n.callFrame);
      if (seen.has(key)) continue; // recursion: count once
      seen.add(key);
      add(agg.inclusiveByFunction, key, ms);
    }
  }
  return agg;
}

// ---------------------------------------------------------------------------------------------- output

function table(title: string, map: Map<string, number>, denominator: number, top: number, header = "Self"): string {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`**${title}**`, "", `| ${header} ms | % | |`, "| ---: | ---: | --- |"];
  for (const [key, ms] of rows) lines.push(`| ${ms.toFixed(0)} | ${((100 * ms) / denominator).toFixed(1)} | \`${key.replace(/\|/g, "\\|")}\` |`);
  return lines.join("\n");
}

export function renderMarkdown(agg: Aggregates, source: string, windowLabel: string | null, top: number): string {
  const busy = agg.sampledMs;
  return [
    `Profile \`${source}\`${windowLabel ? `, samples inside the \`${windowLabel}\` phase windows only` : ""}: ` +
      `${agg.totalMs.toFixed(0)} ms wall, ${busy.toFixed(0)} ms on the main thread running code ` +
      `(percentages below are of that busy time; idle = waiting for I/O or timers).`,
    "",
    table("By category (% of wall)", agg.byCategory, agg.totalMs, top, "Wall"),
    "",
    table("Self time by package (builtins charged to their JS caller)", agg.byPackage, busy, top),
    "",
    table("Self time by issuing package (Node core and builtins charged to the nearest package that called them)", agg.byIssuingPackage, busy, top),
    "",
    table("Self time by function", agg.byFunction, busy, top),
    "",
    table("Builtins by calling function", agg.builtinsByCaller, busy, Math.min(top, 15)),
    "",
    table("Inclusive time by function (self + callees)", agg.inclusiveByFunction, busy, top, "Total"),
    "",
    ...[...agg.callers].flatMap(([re, map]) => [table(`Callers of ${re} (inclusive)`, map, busy, Math.min(top, 15), "Total"), ""]),
    ...[...agg.issuers].flatMap(([re, map]) => [table(`Issuers of samples under ${re}`, map, busy, Math.min(top, 15), "Total"), ""]),
  ].join("\n");
}

/**
 * The main-thread profile of the newest process in `dir`. Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>;
 * `--import tsx` adds a loader thread with its own small profile, so the largest of the newest pid is the main one.
 */
/** What `agg` spends beyond `base`, by key, largest first (same work in both, e.g. the same rounds). */
function difference(agg: Map<string, number>, base: Map<string, number>): Map<string, number> {
  const keys = new Set([...agg.keys(), ...base.keys()]);
  return new Map([...keys].map((k) => [k, (agg.get(k) ?? 0) - (base.get(k) ?? 0)] as [string, number]).filter(([, d]) => d > 0));
}

export function renderComparison(agg: Aggregates, base: Aggregates, label: string, top: number): string {
  const extra = agg.sampledMs - base.sampledMs;
  return [
    `**Compared with \`${label}\`**: ${base.sampledMs.toFixed(0)} ms busy there vs ${agg.sampledMs.toFixed(0)} ms here ` +
      `(${(agg.sampledMs / base.sampledMs).toFixed(2)}×); the ${extra.toFixed(0)} ms extra break down as follows (% of the extra).`,
    "",
    table("Extra self time by issuing package", difference(agg.byIssuingPackage, base.byIssuingPackage), extra, top, "Extra"),
    "",
    table("Extra self time by function", difference(agg.byFunction, base.byFunction), extra, top, "Extra"),
    "",
  ].join("\n");
}

function loadWindows(file: string, label: string | undefined, profile: CpuProfile): Window[] | null {
  if (!label) return null;
  const windows = (JSON.parse(readFileSync(file, "utf8")) as Window[]).filter((w) => w.label === label);
  if (!windows.length) throw new Error(`no "${label}" window in ${file}`);
  const covered = windows.some((w) => w.startUs >= profile.startTime && w.endUs <= profile.endTime);
  if (!covered) throw new Error(`the "${label}" windows of ${file} do not fall inside this profile (was it written by the same run?)`);
  return windows;
}

/** windows.json next to the profile (run-bench.ts writes it there under --cpu-prof-dir), else bench/out's. */
function windowsFileFor(profileFile: string): string {
  const beside = path.join(path.dirname(profileFile), "windows.json");
  return existsSync(beside) ? beside : path.join(REPO_ROOT, "bench/out/windows.json");
}

function loadProfile(target: string): { file: string; profile: CpuProfile } {
  const file = statSync(target).isDirectory() ? newestProfile(target) : target;
  return { file, profile: JSON.parse(readFileSync(file, "utf8")) as CpuProfile };
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ file: path.join(dir, f), pid: f.split(".")[3], stat: statSync(path.join(dir, f)) }));
  if (!files.length) throw new Error(`no .cpuprofile in ${dir}`);
  const newest = files.reduce((a, b) => (b.stat.mtimeMs > a.stat.mtimeMs ? b : a));
  return files.filter((f) => f.pid === newest.pid).reduce((a, b) => (b.stat.size > a.stat.size ? b : a)).file;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      window: { type: "string" },
      windows: { type: "string" },
      top: { type: "string", default: "25" },
      json: { type: "string" },
      callers: { type: "string", multiple: true, default: [] },
      issuers: { type: "string", multiple: true, default: [] },
      "write-results": { type: "boolean", default: false },
      compare: { type: "string" },
      "compare-window": { type: "string" },
      "compare-windows": { type: "string" },
    },
  });
  const { file, profile } = loadProfile(positionals[0] ?? path.join(REPO_ROOT, "bench/out/prof"));
  const windows = loadWindows(values.windows ?? windowsFileFor(file), values.window, profile);
  const regexps = (list: string[] | undefined) => (list ?? []).map((r) => new RegExp(r));
  const agg = aggregate(profile, windows, regexps(values.callers), regexps(values.issuers));
  const top = Number(values.top);
  let md = renderMarkdown(agg, path.relative(REPO_ROOT, file), values.window ?? null, top);
  if (values.compare) {
    const other = loadProfile(values.compare);
    const otherWindowsFile = values["compare-windows"] ?? windowsFileFor(other.file);
    const base = aggregate(other.profile, loadWindows(otherWindowsFile, values["compare-window"], other.profile));
    md += "\n" + renderComparison(agg, base, `${path.relative(REPO_ROOT, other.file)}${values["compare-window"] ? ` (${values["compare-window"]})` : ""}`, top);
  }
  console.log(md);
  if (values.json) {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]));
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          profile: file,
          window: values.window ?? null,
          totalMs: agg.totalMs,
          busyMs: agg.sampledMs,
          byCategory: sorted(agg.byCategory),
          byPackage: sorted(agg.byPackage),
          byIssuingPackage: sorted(agg.byIssuingPackage),
          byFunction: sorted(agg.byFunction),
          builtinsByCaller: sorted(agg.builtinsByCaller),
          inclusiveByFunction: sorted(agg.inclusiveByFunction),
          callers: Object.fromEntries([...agg.callers].map(([re, map]) => [re, sorted(map)])),
          issuers: Object.fromEntries([...agg.issuers].map(([re, map]) => [re, sorted(map)])),
        },
        null,
        2,
      ) + "\n",
    );
  }
  if (values["write-results"]) {
    const section = `## Foundation: CPU profile\n\nGenerated by \`npx tsx bench/summarize-cpuprofile.ts ${process.argv.slice(2).join(" ")}\`.\n\n${md}`;
    writeSection(path.join(REPO_ROOT, "bench/RESULTS.md"), "Foundation: CPU profile", section);
  }
}

if (require.main === module) main();
