import { createHash, timingSafeEqual } from "node:crypto";

/**
 * The admin key a request presents: the `x-admin-key` header, `Authorization: Bearer <key>`, or the password of
 * `Authorization: Basic` (any user name), which is what a browser sends for the queue dashboard after its login
 * prompt. Undefined when none is present.
 */
export function readAdminKey(headers: { get(name: string): string | undefined }): string | undefined {
  const header = headers.get("x-admin-key");
  if (header) return header;
  const authorization = headers.get("authorization") ?? "";
  const bearer = authorization.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer) return bearer.trim();
  const basic = authorization.match(/^Basic\s+(.+)$/i)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic.trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares in constant time (over hashes, so the key's length does not leak either). */
export function adminKeyMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
