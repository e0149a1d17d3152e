import { existsSync, readFileSync, realpathSync } from "node:fs";
import Module, { createRequire, register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * @langchain/core, @langchain/langgraph and @langchain/langgraph-checkpoint are peer dependencies: Runline uses
 * the project's copies, as `langgraph dev` does. Two copies of @langchain/core in one process break `instanceof`
 * (a message built by one is not a `BaseMessage` of the other), callback handlers and the checkpoint serializer,
 * and a project pins the versions its graphs were written for. npm installs a peer once, at the project's top
 * level, so an installed Runline already resolves to it; this also covers `npx` from elsewhere, a global
 * install and a source checkout, where Runline's own node_modules would hold a second copy.
 */
export const PEERS = ["core", "langgraph", "langgraph-checkpoint"] as const;
type Peer = (typeof PEERS)[number];

export interface PeerCopy {
  name: string;
  /** The package's directory (real path). */
  dir: string;
  version: string;
}

function packageDirOf(entryFile: string, name: string): string {
  for (let dir = path.dirname(entryFile); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === name) return dir;
  }
  throw new Error(`cannot find the package.json of ${name} above ${entryFile}`);
}

function resolveFrom(fromFile: string, name: string): PeerCopy | null {
  try {
    const entry = realpathSync(createRequire(fromFile).resolve(name));
    const dir = packageDirOf(entry, name);
    return { name, dir, version: JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).version };
  } catch {
    return null;
  }
}

/** Finds the project's copies; @langchain/langgraph-checkpoint is the one the project's langgraph itself loads. */
export function findProjectPeers(projectDir: string): Record<Peer, PeerCopy | null> {
  const anchor = path.join(projectDir, "langgraph.json");
  const core = resolveFrom(anchor, "@langchain/core");
  const langgraph = resolveFrom(anchor, "@langchain/langgraph");
  const checkpoint = langgraph ? resolveFrom(path.join(langgraph.dir, "package.json"), "@langchain/langgraph-checkpoint") : null;
  return { core, langgraph, "langgraph-checkpoint": checkpoint };
}

/**
 * Whether the project's graph modules load as CommonJS (tsx follows Node: `.cts`/`.cjs`, or `.ts`/`.js` under a
 * package.json without `"type": "module"`). The peers must then be loaded from their CommonJS builds by Runline
 * too, or the process holds the ESM and the CommonJS instance of the same package.
 */
export function graphsAreCommonJs(graphFile: string): boolean {
  const ext = path.extname(graphFile);
  if (ext === ".cts" || ext === ".cjs") return true;
  if (ext === ".mts" || ext === ".mjs") return false;
  for (let dir = path.dirname(graphFile); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type !== "module";
  }
  return true;
}

/**
 * Routes every import of the peers made by Runline and its dependencies (anything but the peer packages
 * themselves) to the project's copies: an ESM hook for `import`, and a wrapper around CommonJS resolution for
 * `require` (Node 20's hooks do not see `require`). Call before anything imports @langchain/*.
 * Not covered: a source checkout of Runline (CommonJS) with an ESM project; Node 20 cannot `require` an ESM build.
 */
export function usePeersOf(projectDir: string, graphFile: string, hookFile: string): Record<Peer, PeerCopy> {
  const peers = findProjectPeers(projectDir);
  for (const name of ["core", "langgraph"] as const) {
    if (!peers[name]) {
      throw new Error(
        `the project at ${projectDir} has no @langchain/${name}; its graphs and Runline share the project's copy (a peer dependency). ` +
          `Install it there: npm install @langchain/core @langchain/langgraph`,
      );
    }
  }
  const found = PEERS.filter((p) => peers[p]);
  const peerDirs = found.map((p) => peers[p]!.dir + path.sep);
  // Resolving a peer "as if from" a file inside the directory that should see it.
  const parents = Object.fromEntries(
    found.map((p) => [p, path.join(p === "langgraph-checkpoint" ? peers.langgraph!.dir : projectDir, "package.json")]),
  ) as Partial<Record<Peer, string>>;

  register(pathToFileURL(hookFile), {
    data: {
      peerDirs: peerDirs.map((dir) => pathToFileURL(dir).href),
      parents: Object.fromEntries(Object.entries(parents).map(([p, file]) => [p, pathToFileURL(file!).href])),
      commonjs: graphsAreCommonJs(graphFile),
    },
  });

  const PEER = /^@langchain\/(core|langgraph|langgraph-checkpoint)(\/.*)?$/;
  const internals = Module as unknown as {
    _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
    _nodeModulePaths(dir: string): string[];
  };
  const original = internals._resolveFilename;
  const fakeParents = new Map<string, unknown>();
  const parentFor = (file: string) => {
    let parent = fakeParents.get(file);
    if (!parent) fakeParents.set(file, (parent = { id: file, filename: file, paths: internals._nodeModulePaths(path.dirname(file)) }));
    return parent;
  };
  internals._resolveFilename = function (request, parent, isMain, options) {
    const match = PEER.exec(request);
    const from = (parent as { filename?: string } | undefined)?.filename;
    const target = match && parents[match[1] as Peer];
    if (target && !(from && peerDirs.some((dir) => from.startsWith(dir)))) return original.call(this, request, parentFor(target), isMain, options);
    return original.call(this, request, parent, isMain, options);
  };
  return peers as Record<Peer, PeerCopy>;
}
