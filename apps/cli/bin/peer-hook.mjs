// Node module-resolution hook (module.register) that makes Runline's own code import @langchain/core,
// @langchain/langgraph and @langchain/langgraph-checkpoint from the user's project, so Runline and the project's
// graphs share one copy of each: messages pass `instanceof`, callbacks and the checkpointer's serializer are the
// graph's own. The CommonJS half of the same rule lives in src/peer-resolution.ts. Kept as plain JS: hooks run on
// Node's loader thread, before any TypeScript loader can help.
const PEER = /^@langchain\/(core|langgraph|langgraph-checkpoint)(\/.*)?$/;

let state = null;

/** `data`: { projectNodeModules, runlineRoot, parents: { core, langgraph, "langgraph-checkpoint" } } (file URLs). */
export async function initialize(data) {
  state = data;
}

/** The project's own dependency tree keeps its own resolution; everything else (Runline and its deps) is redirected. */
function redirected(parentURL) {
  if (!parentURL || !parentURL.startsWith("file:")) return true;
  if (parentURL.startsWith(state.runlineRoot)) return true;
  return !parentURL.startsWith(state.projectNodeModules);
}

export async function resolve(specifier, context, nextResolve) {
  const match = state && PEER.exec(specifier);
  if (match && redirected(context.parentURL)) {
    const parentURL = state.parents[match[1]];
    if (parentURL) return nextResolve(specifier, { ...context, parentURL });
  }
  return nextResolve(specifier, context);
}
