// Node module-resolution hook (module.register) that makes every import of @langchain/core, @langchain/langgraph
// and @langchain/langgraph-checkpoint made by Runline and its dependencies load the user's project's copy, in the
// module format the project's graphs load it in. Otherwise one process holds two instances of @langchain/core:
// a second copy, or the same copy twice (its ESM and its CommonJS build), and messages built or deserialised by
// one are not the other's classes. The CommonJS half of the rule lives in src/peer-resolution.ts. Plain JS:
// hooks run on Node's loader thread, before any TypeScript loader can help.
const PEER = /^@langchain\/(core|langgraph|langgraph-checkpoint)(\/.*)?$/;

let state = null;

/**
 * `data`: { peerDirs: file URLs of the project's peer packages (their own imports resolve as they are),
 * parents: { core, langgraph, "langgraph-checkpoint" } (URLs to resolve each peer from), commonjs: whether the
 * project's graphs are CommonJS (then an `import` of a peer loads its CommonJS build, the one they share) }.
 */
export async function initialize(data) {
  state = data;
}

export async function resolve(specifier, context, nextResolve) {
  const match = state && PEER.exec(specifier);
  const parentURL = match && state.parents[match[1]];
  if (parentURL && !state.peerDirs.some((dir) => context.parentURL?.startsWith(dir))) {
    const conditions = state.commonjs
      ? [...context.conditions.filter((c) => c !== "import" && c !== "module-sync"), "require"]
      : context.conditions;
    return nextResolve(specifier, { ...context, conditions, parentURL });
  }
  return nextResolve(specifier, context);
}
