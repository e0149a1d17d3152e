import type { RequestHandler } from "express";
import { UnauthorizedError } from "@runline/core";

/** The tenant single-tenant mode runs as. */
export const DEFAULT_TENANT = "default";

/** Resolves the caller's tenant from `x-api-key` (what the LangGraph SDK sends) or `Authorization: Bearer`. */
export function authenticate(apiKeys: ReadonlyMap<string, string>): RequestHandler {
  return (req, res, next) => {
    if (apiKeys.size === 0) {
      res.locals.tenantId = DEFAULT_TENANT;
      return next();
    }
    const bearer = req.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const key = req.get("x-api-key") ?? bearer;
    const tenant = key ? apiKeys.get(key) : undefined;
    if (!tenant) return next(new UnauthorizedError());
    res.locals.tenantId = tenant;
    next();
  };
}

/** The authenticated tenant of this request. */
export function tenantOf(res: { locals: Record<string, any> }): string {
  return res.locals.tenantId as string;
}
