/**
 * Checks on untrusted JSON that no schema can make: how deep it nests (before parsing, so nothing recursive
 * ever sees a 10,000-level document: `JSON.stringify` in the pg driver, zod, LangGraph all recurse), and which
 * strings Postgres cannot store (U+0000 and lone surrogates are refused by `jsonb` and `text` alike). Both are
 * loops over an explicit stack: neither can overflow the call stack, whatever the input.
 */

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The byte offset at which the JSON text in `bytes` (UTF-8) first nests deeper than `maxDepth` objects/arrays,
 * or -1 if it never does. Brackets inside strings do not count. The text need not be valid JSON: the parser
 * judges that afterwards. UTF-8 continuation bytes never equal an ASCII byte, so a byte scan is exact.
 */
export function jsonDepthOffset(bytes: Uint8Array, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++; // the escaped byte cannot end the string
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) return i;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return -1;
}

/** A value Runline refuses, and where it sits (`metadata.notes.0`, zod's path style). */
export interface UnsafeValue {
  path: string;
  problem: string;
}

// With the `u` flag a well-formed pair is one code point (not \p{Cs}); only a lone surrogate matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `s` cannot be stored, or null. */
export function stringProblem(s: string): string | null {
  if (s.includes("\u0000")) return "contains U+0000 (NUL), which cannot be stored";
  if (LONE_SURROGATE.test(s)) return "contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored";
  return null;
}

const MAX_KEY_IN_PATH = 40;

function pathOf(parent: string, key: string | number): string {
  const segment = typeof key === "number" ? String(key) : JSON.stringify(key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key).slice(1, -1);
  return parent ? `${parent}.${segment}` : segment;
}

/**
 * The first string (value or object key) in `value` that Postgres cannot store, or number that is not finite
 * (`1e400` parses to Infinity), walking depth-first with an explicit stack. `root` prefixes the paths
 * (`""` for a body, whose paths then match the schema's issues).
 */
export function findUnsafeValue(value: unknown, root = ""): UnsafeValue | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: root }];
  while (stack.length) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === "string") {
      const problem = stringProblem(current);
      if (problem) return { path: path || "(body)", problem };
    } else if (typeof current === "number") {
      if (!Number.isFinite(current)) return { path: path || "(body)", problem: "is not a finite number" };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: pathOf(path, i) });
    } else if (current && typeof current === "object") {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        const problem = stringProblem(key);
        const keyPath = pathOf(path, key);
        if (problem) return { path: keyPath, problem: `has a key that ${problem}` };
        stack.push({ value: (current as Record<string, unknown>)[key], path: keyPath });
      }
    }
  }
  return null;
}
