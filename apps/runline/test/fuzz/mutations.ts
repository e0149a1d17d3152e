import type { Prng } from "./prng";
import type { FuzzFixture, RouteSpec } from "./routes";

/** One hostile request, and how it was made (for the failure report). */
export interface FuzzRequest {
  route: string;
  mutation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Json = unknown;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Sets `value` at a dotted path, creating objects on the way. */
function setAt(target: Record<string, Json>, path: string, value: Json): void {
  const parts = path.split(".");
  let node = target as Record<string, Json>;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== "object") node[part] = {};
    node = node[part] as Record<string, Json>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Paths of every string leaf (`a.0.b`), so a NUL can go into any of them. */
function stringLeaves(value: Json, prefix = ""): string[] {
  if (typeof value === "string") return [prefix];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, Json>).flatMap(([k, v]) => stringLeaves(v, prefix ? `${prefix}.${k}` : k));
}

function getAt(value: Json, path: string): Json {
  return path.split(".").reduce<Json>((node, part) => (node as Record<string, Json> | undefined)?.[part], value);
}

/** Nested arrays/objects `depth` levels deep, built as text (cheap, and no recursion on our side either). */
function deepText(depth: number, rng: Prng): string {
  const object = rng.chance(0.5);
  return object ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

const BAD_CHARS = ["\u0000", "\ud800", "\udfff", "a\u0000", "\udbff\u0041"];
const BAD_CONTENT_TYPES = [
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/json5",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "application/octet-stream",
];
const MALFORMED_JSON = ["{", '{"a":', "{'a':1}", '{"a":1,}', "[1,2", '{"a":1}}', "nul", "\u0000{}", '{"a":"\\x"}', '{"a":01}', '{"a":NaN}', '{"a":Infinity}'];
const PRIMITIVE_BODIES = ["123", '"string"', "[]", "true", "null", "[{}]"];
const NON_FINITE = ["1e400", "-1e999", "1e309"];
const BAD_LAST_EVENT_IDS = ["99999999999999999999-0", "1-99999999999999999999", "18446744073709551616", "9999999999999-0", "abc", "1-2-3", "-5", "1.5", "0x10", "¹²³", "1-", "-".repeat(300)];
const NUL_QUERIES = ["x=%00", "%00=1", "limit=%00", "before=a%00b", "stream_mode=%00", "a=1&b=%00c"];
/** Headers that are odd but harmless: added as noise, never the only thing wrong. */
const NOISE_HEADERS: Array<Record<string, string>> = [
  { "x-request-id": "has spaces and ümlauts" },
  { "x-request-id": "x".repeat(500) },
  { accept: "text/html;q=0.1, */*;q=garbage" },
  { "x-custom": "\t tabbed \t" },
  { "last-event-id": "1-0" },
  { origin: "http://evil.example" },
];

type Built = Omit<FuzzRequest, "route" | "mutation" | "method">;
/** Builds one request from a route; returns null when the mutation does not apply to it. */
type Mutator = (spec: RouteSpec, f: FuzzFixture, rng: Prng) => Built | null;

/** Which mutations can apply to a route, decided without building anything (the lists are large). */
const APPLIES: Record<string, (spec: RouteSpec) => boolean> = {
  unstorableString: (s) => !!s.body,
  deepNesting: (s) => !!s.body,
  nonFiniteNumber: (s) => !!s.body,
  badField: (s) => !!s.body && !!s.badFields,
  wrongContentType: (s) => !!s.body,
  malformedJson: (s) => !!s.body,
  primitiveBody: (s) => !!s.body,
  badPath: (s) => !!s.badPaths,
  badQuery: () => true,
  badAuth: (s) => s.auth !== "open",
  badLastEventId: (s) => !!s.resumable,
};

/** `badFields` per route, built once: some values are 100k-entry lists. */
const badFieldsCache = new Map<RouteSpec, Array<[string, unknown[]]>>();
function badFieldsOf(spec: RouteSpec, f: FuzzFixture): Array<[string, unknown[]]> {
  if (!badFieldsCache.has(spec)) badFieldsCache.set(spec, spec.badFields?.(f) ?? []);
  return badFieldsCache.get(spec)!;
}

function authHeaders(spec: RouteSpec, f: FuzzFixture): Record<string, string> {
  const auth: Record<string, string> = spec.auth === "tenant" ? { "x-api-key": f.keyA } : spec.auth === "admin" ? { "x-admin-key": f.adminKey } : {};
  return { ...auth, ...spec.headers };
}

function jsonRequest(spec: RouteSpec, f: FuzzFixture, body: string, contentType = "application/json") {
  return { path: spec.path(f), headers: { ...authHeaders(spec, f), "content-type": contentType }, body };
}

function withBody(mutate: (body: Record<string, Json>, spec: RouteSpec, f: FuzzFixture, rng: Prng) => string | null): Mutator {
  return (spec, f, rng) => {
    if (!spec.body) return null;
    const text = mutate(clone(spec.body(f)), spec, f, rng);
    return text === null ? null : jsonRequest(spec, f, text);
  };
}

const MUTATORS: Record<string, Mutator> = {
  // A NUL or a lone surrogate in any string, or in a key (JSON.stringify escapes lone surrogates as \udXXX).
  unstorableString: withBody((body, _spec, _f, rng) => {
    const bad = rng.pick(BAD_CHARS);
    const leaves = stringLeaves(body);
    if (leaves.length && rng.chance(0.7)) {
      const path = rng.pick(leaves);
      const current = String(getAt(body, path));
      const at = rng.int(0, current.length);
      setAt(body, path, current.slice(0, at) + bad + current.slice(at));
    } else {
      setAt(body, rng.chance(0.5) ? "metadata" : "extra", { [`key${bad}`]: "v" });
    }
    return JSON.stringify(body);
  }),
  deepNesting: withBody((body, _spec, _f, rng) => {
    const depth = rng.pick([65, 100, 1000, 10_000, rng.int(65, 20_000)]);
    const leaves = stringLeaves(body);
    const marker = "__DEEP__";
    setAt(body, leaves.length && rng.chance(0.6) ? rng.pick(leaves) : "extra", marker);
    return JSON.stringify(body).replace(`"${marker}"`, deepText(depth, rng));
  }),
  nonFiniteNumber: withBody((body, _spec, _f, rng) => {
    const marker = "__NUM__";
    setAt(body, rng.chance(0.5) ? "limit" : "extra", marker);
    return JSON.stringify(body).replace(`"${marker}"`, rng.pick(NON_FINITE));
  }),
  badField: (spec, f, rng) => {
    const fields = badFieldsOf(spec, f);
    if (!spec.body || !fields.length) return null;
    const [path, values] = rng.pick(fields);
    const body = clone(spec.body(f));
    setAt(body, path, rng.pick(values));
    return jsonRequest(spec, f, JSON.stringify(body));
  },
  wrongContentType: (spec, f, rng) => (spec.body ? jsonRequest(spec, f, JSON.stringify(spec.body(f)), rng.pick(BAD_CONTENT_TYPES)) : null),
  malformedJson: (spec, f, rng) => {
    if (!spec.body) return null;
    if (rng.chance(0.5)) return jsonRequest(spec, f, rng.pick(MALFORMED_JSON));
    const text = JSON.stringify(spec.body(f));
    return jsonRequest(spec, f, text.slice(0, rng.int(1, text.length - 1)));
  },
  primitiveBody: (spec, f, rng) => (spec.body ? jsonRequest(spec, f, rng.pick(PRIMITIVE_BODIES)) : null),
  badPath: (spec, f, rng) => {
    const paths = spec.badPaths?.(f) ?? [];
    if (!paths.length) return null;
    return { path: rng.pick(paths), headers: authHeaders(spec, f), ...(spec.body ? { body: JSON.stringify(spec.body(f)) } : {}) };
  },
  badQuery: (spec, f, rng) => {
    const queries = [...(spec.badQueries ?? []), ...NUL_QUERIES];
    const query = rng.pick(queries);
    return { path: `${spec.path(f)}?${query}`, headers: authHeaders(spec, f), ...(spec.body ? { body: JSON.stringify(spec.body(f)) } : {}) };
  },
  badAuth: (spec, f, rng) => {
    if (spec.auth === "open") return null;
    const choices: Array<Record<string, string>> =
      spec.auth === "admin"
        ? [{}, { "x-admin-key": "wrong-admin-key-0000" }, { "x-admin-key": f.keyA }, { authorization: "Bearer nope" }]
        : [{}, { "x-api-key": "wrong" }, { authorization: "Basic Zm9vOmJhcg==" }, ...(spec.tenantScoped ? [{ "x-api-key": f.keyB }, { authorization: `Bearer ${f.keyB}` }] : [])];
    const headers = { ...rng.pick(choices), ...spec.headers };
    return { path: spec.path(f), headers, ...(spec.body ? { body: JSON.stringify(spec.body(f)) } : {}) };
  },
  badLastEventId: (spec, f, rng) => (spec.resumable ? { path: spec.path(f), headers: { ...authHeaders(spec, f), "last-event-id": rng.pick(BAD_LAST_EVENT_IDS) } } : null),
};

/**
 * `count` hostile requests over `routes`, the same ones for the same seed: each picks a route, then one of the
 * mutations that apply to it, and sometimes adds harmless noise headers on top.
 */
export function generateRequests(routes: readonly RouteSpec[], f: FuzzFixture, rng: Prng, count: number): FuzzRequest[] {
  badFieldsCache.clear(); // the values hold this fixture's ids
  const requests: FuzzRequest[] = [];
  const names = Object.keys(MUTATORS);
  while (requests.length < count) {
    const spec = rng.pick(routes);
    const mutation = rng.pick(names.filter((n) => APPLIES[n](spec)));
    const built = MUTATORS[mutation](spec, f, rng);
    if (!built) throw new Error(`mutation ${mutation} does not apply to ${spec.name}`);
    const noise = rng.chance(0.25) ? rng.pick(NOISE_HEADERS) : {};
    // Noise never carries a Last-Event-ID into a mutation that tests that header, nor replaces an auth header.
    const headers = { ...noise, ...built.headers };
    if (spec.body && built.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    requests.push({ route: spec.name, mutation, method: spec.method, ...built, headers });
  }
  return requests;
}

/**
 * Every listed bad value once, for every route: each bad field value, bad path, bad query, wrong content type
 * and bad Last-Event-ID. The random requests then combine the generic mutations at will; the sweep makes sure
 * no listed case is left to chance.
 */
export function sweepRequests(routes: readonly RouteSpec[], f: FuzzFixture): FuzzRequest[] {
  badFieldsCache.clear();
  const out: FuzzRequest[] = [];
  const add = (spec: RouteSpec, mutation: string, built: Built) => {
    const headers = { ...built.headers };
    if (spec.body && built.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    out.push({ route: spec.name, mutation, method: spec.method, ...built, headers });
  };
  for (const spec of routes) {
    const body = spec.body ? JSON.stringify(spec.body(f)) : undefined;
    const withBase = (path: string, headers = authHeaders(spec, f)): Built => ({ path, headers, ...(body !== undefined ? { body } : {}) });
    for (const [path, values] of badFieldsOf(spec, f)) {
      for (const value of values) {
        const mutated = clone(spec.body!(f));
        setAt(mutated, path, value);
        add(spec, `badField ${path}`, jsonRequest(spec, f, JSON.stringify(mutated)));
      }
    }
    for (const path of spec.badPaths?.(f) ?? []) add(spec, "badPath", withBase(path));
    for (const query of spec.badQueries ?? []) add(spec, "badQuery", withBase(`${spec.path(f)}?${query}`));
    if (body !== undefined) for (const type of BAD_CONTENT_TYPES) add(spec, "wrongContentType", jsonRequest(spec, f, body, type));
    if (spec.resumable) for (const id of BAD_LAST_EVENT_IDS) add(spec, "badLastEventId", withBase(spec.path(f), { ...authHeaders(spec, f), "last-event-id": id }));
  }
  return out;
}
