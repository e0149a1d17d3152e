/**
 * Which `Host` names and browser origins Runline trusts. One module so that CORS (who may read our answers) and
 * the host guard (who may send us requests when there are no API keys) agree on what "loopback" means.
 */

/** The CORS token for "any http(s) origin on a loopback name (or an allowed host), any port". */
export const LOOPBACK = "loopback";

/**
 * True for names that always resolve to this machine: `localhost` and `*.localhost` (RFC 6761; browsers resolve
 * them to loopback themselves, so no DNS answer can rebind them), `127.0.0.0/8` and `[::1]`.
 * `hostname` is as WHATWG URL parses it: lower-case, IPv6 in brackets, `127.1` already expanded.
 */
export function isLoopbackName(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** The hostname of a `Host` header (`example.com:2024`, `[::1]:2024`), or null when it is not one. */
export function hostnameOfHostHeader(host: string | undefined): string | null {
  if (!host || /[/?#@\s\\]/.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

/** The hostname of an http(s) `Origin` (`http://localhost:5173`), or null (`null`, `file://`, garbage). */
export function hostnameOfOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.hostname : null;
  } catch {
    return null;
  }
}

/** The names a request may be addressed to: loopback ones plus `extraHosts` (already lower-case hostnames). */
export function isAllowedHostname(hostname: string, extraHosts: readonly string[]): boolean {
  return isLoopbackName(hostname) || extraHosts.includes(hostname);
}

/**
 * Decides whether a browser origin may call the API. `origins` holds exact origins, `*` (any) and
 * {@link LOOPBACK}; `extraHosts` widens `loopback` to the hosts named in `RUNLINE_ALLOWED_HOSTS`.
 */
export function createOriginPolicy(origins: readonly string[], extraHosts: readonly string[] = []) {
  const any = origins.includes("*");
  const loopback = origins.includes(LOOPBACK);
  const exact = new Set(origins.filter((o) => o !== "*" && o !== LOOPBACK).map((o) => o.replace(/\/+$/, "")));
  return {
    /** `*` is configured: answers can say `Access-Control-Allow-Origin: *` (no `Vary`). */
    any,
    allows(origin: string): boolean {
      if (any || exact.has(origin)) return true;
      if (!loopback) return false;
      const hostname = hostnameOfOrigin(origin);
      return hostname !== null && isAllowedHostname(hostname, extraHosts);
    },
  };
}

export type OriginPolicy = ReturnType<typeof createOriginPolicy>;
