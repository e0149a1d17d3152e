// Retained sizes from a V8 heap snapshot (.heapsnapshot), by constructor: the dominator tree (Lengauer–Tarjan,
// iterative, weak edges ignored), then, per constructor, the summed retained size of its outermost instances (those
// no other instance of the same constructor dominates), so nested instances are not counted twice.
//
//   node --max-old-space-size=6000 --import tsx bench/lib/heap-dominators.ts FILE [--top N] [--drill NAME]
//
// A 200 MB snapshot needs ~2 GB to parse; bench/heap-profile.ts runs this in a child with a larger heap.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

export interface RetainedBy {
  name: string;
  count: number;
  retainedMb: number;
}

export interface HeapAnalysis {
  totalMb: number;
  nodes: number;
  byConstructor: RetainedBy[];
  /** The dominator subtree (3 levels) of the median instance of `drill`, as indented lines. */
  drill: string[];
}

export function analyseHeapSnapshot(file: string, opts: { top?: number; drill?: string } = {}): HeapAnalysis {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const meta = snap.snapshot.meta;
  const nf: number = meta.node_fields.length;
  const ef: number = meta.edge_fields.length;
  const types: string[] = meta.node_types[0];
  const weak = (meta.edge_types[0] as string[]).indexOf("weak");
  const N: number[] = snap.nodes;
  const E: number[] = snap.edges;
  const S: string[] = snap.strings;
  const n = N.length / nf;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += N[i * nf + 4]! * ef;
    firstEdge[i + 1] = e;
  }
  const target = (e: number) => E[e + 2]! / nf;

  // Depth-first numbering from the root (node 0).
  const semi = new Int32Array(n).fill(-1);
  const vertex = new Int32Array(n);
  const parent = new Int32Array(n);
  const label = new Int32Array(n);
  const ancestor = new Int32Array(n).fill(-1);
  const dom = new Int32Array(n);
  let count = 1;
  semi[0] = 0;
  label[0] = 0;
  const stack = [0];
  const edgeAt = [firstEdge[0]!];
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    const e = edgeAt[edgeAt.length - 1]!;
    if (e >= firstEdge[v + 1]!) {
      stack.pop();
      edgeAt.pop();
      continue;
    }
    edgeAt[edgeAt.length - 1] = e + ef;
    if (E[e] === weak) continue;
    const w = target(e);
    if (semi[w] === -1) {
      parent[w] = v;
      semi[w] = count;
      vertex[count++] = w;
      label[w] = w;
      stack.push(w);
      edgeAt.push(firstEdge[w]!);
    }
  }
  // Predecessors of every reachable node.
  const predStart = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) if (semi[v]! >= 0) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (E[e] !== weak) predStart[target(e) + 1]++;
  for (let i = 0; i < n; i++) predStart[i + 1] += predStart[i]!;
  const preds = new Uint32Array(predStart[n]!);
  const fill = predStart.slice(0, n);
  for (let v = 0; v < n; v++) if (semi[v]! >= 0) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (E[e] !== weak) preds[fill[target(e)]++] = v;
  const compress = (v: number) => {
    const path: number[] = [];
    while (ancestor[ancestor[v]!] !== -1) {
      path.push(v);
      v = ancestor[v]!;
    }
    while (path.length) {
      const x = path.pop()!;
      const a = ancestor[x]!;
      if (semi[label[a]!]! < semi[label[x]!]!) label[x] = label[a]!;
      ancestor[x] = ancestor[a]!;
    }
  };
  const evaluate = (v: number) => (ancestor[v] === -1 ? v : (compress(v), label[v]!));
  const bucketHead = new Int32Array(n).fill(-1);
  const bucketNext = new Int32Array(n).fill(-1);
  for (let i = count - 1; i > 0; i--) {
    const w = vertex[i]!;
    for (let p = predStart[w]!; p < predStart[w + 1]!; p++) {
      const u = evaluate(preds[p]!);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    const s = vertex[semi[w]!]!;
    bucketNext[w] = bucketHead[s]!;
    bucketHead[s] = w;
    ancestor[w] = parent[w]!;
    const pw = parent[w]!;
    for (let v = bucketHead[pw]!; v !== -1; v = bucketNext[v]!) {
      const u = evaluate(v);
      dom[v] = semi[u]! < semi[v]! ? u : pw;
    }
    bucketHead[pw] = -1;
  }
  for (let i = 1; i < count; i++) {
    const w = vertex[i]!;
    if (dom[w] !== vertex[semi[w]!]) dom[w] = dom[dom[w]!]!;
  }
  const retained = new Float64Array(n);
  for (let i = count - 1; i >= 0; i--) {
    const w = vertex[i]!;
    retained[w] += N[w * nf + 3]!;
    if (i > 0) retained[dom[w]!] += retained[w]!;
  }

  const nameOf = (v: number) => {
    const type = types[N[v * nf]!]!;
    const name = S[N[v * nf + 1]!]!;
    return type === "object" || type === "closure" ? `${type}:${name}` : `${type}:${name.slice(0, 30).replace(/\s+/g, " ")}`;
  };
  const totals = new Map<string, { count: number; retained: number }>();
  for (let i = 1; i < count; i++) {
    const w = vertex[i]!;
    const name = nameOf(w);
    let outermost = true;
    for (let d = dom[w]!, hops = 0; d !== 0 && hops < 50; d = dom[d]!, hops++) {
      if (nameOf(d) === name) {
        outermost = false;
        break;
      }
    }
    if (!outermost) continue;
    const t = totals.get(name) ?? { count: 0, retained: 0 };
    t.count += 1;
    t.retained += retained[w]!;
    totals.set(name, t);
  }
  const byConstructor = [...totals.entries()]
    .sort((a, b) => b[1].retained - a[1].retained)
    .slice(0, opts.top ?? 40)
    .map(([name, t]) => ({ name, count: t.count, retainedMb: t.retained / 2 ** 20 }));

  const drill: string[] = [];
  if (opts.drill) {
    const children = new Map<number, number[]>();
    for (let i = 1; i < count; i++) {
      const w = vertex[i]!;
      const list = children.get(dom[w]!) ?? [];
      list.push(w);
      children.set(dom[w]!, list);
    }
    const instances: number[] = [];
    for (let i = 1; i < count; i++) if (nameOf(vertex[i]!) === opts.drill) instances.push(vertex[i]!);
    instances.sort((a, b) => retained[b]! - retained[a]!);
    const median = instances[Math.floor(instances.length / 2)];
    const walk = (v: number, depth: number, indent: string) => {
      for (const k of (children.get(v) ?? []).sort((a, b) => retained[b]! - retained[a]!).slice(0, 8)) {
        if (retained[k]! < 512) continue;
        drill.push(`${indent}${(retained[k]! / 1024).toFixed(1)} KB ${nameOf(k).slice(0, 80)}`);
        if (depth > 1) walk(k, depth - 1, `${indent}  `);
      }
    };
    if (median !== undefined) {
      drill.push(`${opts.drill}: ${instances.length} instances, median retains ${(retained[median]! / 1024).toFixed(1)} KB:`);
      walk(median, 3, "  ");
    }
  }
  return { totalMb: retained[0]! / 2 ** 20, nodes: n, byConstructor, drill };
}

export function formatHeapAnalysis(a: HeapAnalysis): string {
  const rows = a.byConstructor.map((r) => `| ${r.name.replace(/\|/g, "\\|")} | ${r.count} | ${r.retainedMb.toFixed(2)} | ${((r.retainedMb * 1024) / r.count).toFixed(1)} |`);
  return [
    `Live heap ${a.totalMb.toFixed(1)} MB in ${a.nodes} objects. Retained by constructor (outermost instances; nested ones overlap their parents):`,
    "",
    "| constructor | instances | retained (MB) | per instance (KB) |",
    "| --- | ---: | ---: | ---: |",
    ...rows,
    ...(a.drill.length ? ["", ...a.drill] : []),
  ].join("\n");
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" }, drill: { type: "string" } } });
  process.stdout.write(formatHeapAnalysis(analyseHeapSnapshot(positionals[0]!, { top: Number(values.top), drill: values.drill })) + "\n");
}
