import { ValidationError } from "@runline/core";

const STREAM_ID = /^(\d{1,20})(?:-(\d{1,20}))?$/;

/** True if `id` is a Redis stream entry id (`ms-seq`, or `ms` alone meaning `ms-0`). */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

/**
 * Turns a client's `Last-Event-ID` into a full `ms-seq` id, or `undefined` for "from the start"
 * (missing, empty, `-1`, `-`, `0` and `0-0` all mean that).
 * @throws ValidationError (400) when the id is not a stream id, so the HTTP layer answers 4xx, not 5xx.
 */
export function normaliseLastEventId(id: string | undefined | null): string | undefined {
  if (id === undefined || id === null) return undefined;
  const trimmed = id.trim();
  if (trimmed === "" || trimmed === "-1" || trimmed === "-") return undefined;
  const match = STREAM_ID.exec(trimmed);
  if (!match) throw new ValidationError(`Last-Event-ID "${id.slice(0, 64)}" is not a stream id`, { lastEventId: id }, 400);
  const full = `${stripZeros(match[1]!)}-${stripZeros(match[2] ?? "0")}`;
  return full === "0-0" ? undefined : full;
}

/**
 * Orders two stream ids numerically by `ms` then `seq`. Plain string comparison is wrong
 * (`"999-0" > "1000-0"`), and `Number` loses precision past 2^53, so compare digit strings by length first.
 * Both ids must be canonical (no leading zeros), as Redis returns them.
 */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf("-");
  const db = b.indexOf("-");
  const ms = compareDigits(da < 0 ? a : a.slice(0, da), db < 0 ? b : b.slice(0, db));
  if (ms !== 0) return ms;
  return compareDigits(da < 0 ? "0" : a.slice(da + 1), db < 0 ? "0" : b.slice(db + 1));
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "");
}
