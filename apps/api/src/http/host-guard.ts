import type { RequestHandler } from "express";
import { AppError, truncate } from "@runline/core";
import { hostnameOfHostHeader, isAllowedHostname, type OriginPolicy } from "./origins";

/**
 * Without API keys, whoever can send Runline a request owns every thread. Binding to loopback keeps other
 * machines out, but not other web pages in this machine's browser:
 * - **DNS rebinding**: `evil.example` re-resolves to 127.0.0.1, and its page then calls the API as a same-origin
 *   site. The browser still sends `Host: evil.example`, so only requests addressed to a loopback name (or a host
 *   in `RUNLINE_ALLOWED_HOSTS`) are served.
 * - **Simple cross-site requests** (a form post, `fetch` with `text/plain`) are sent without a preflight, so
 *   missing CORS headers do not stop them; an `Origin` that is neither allowed nor this server's own is refused.
 *
 * Both answer 403 through the error mapper. `extraHosts` are lower-case hostnames.
 */
export function hostGuard(extraHosts: readonly string[], origins: OriginPolicy): RequestHandler {
  return (req, _res, next) => {
    const host = req.get("host");
    const hostname = hostnameOfHostHeader(host);
    if (hostname === null || !isAllowedHostname(hostname, extraHosts)) {
      return next(
        new AppError(
          "HOST_NOT_ALLOWED",
          `Host ${JSON.stringify(truncate(host ?? "", 200))} is not a loopback name. Runline runs without API keys, so it answers only ` +
            "requests addressed to localhost, 127.0.0.1 or [::1] (a DNS-rebinding guard): list other names in " +
            "RUNLINE_ALLOWED_HOSTS, or set RUNLINE_API_KEYS.",
          { status: 403 },
        ),
      );
    }
    const origin = req.get("origin");
    if (origin !== undefined && !origins.allows(origin) && !isSameOrigin(origin, host!)) {
      return next(
        new AppError(
          "ORIGIN_NOT_ALLOWED",
          `Origin ${JSON.stringify(truncate(origin, 200))} may not call this Runline: without API keys only loopback origins ` +
            "(and RUNLINE_ALLOWED_HOSTS, RUNLINE_CORS_ORIGINS) are served.",
          { status: 403 },
        ),
      );
    }
    next();
  };
}

/** The page was served by this server itself (`Origin: http://h:p` with `Host: h:p`). */
function isSameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
