import type { z } from "zod";

/**
 * Validates one part of a request; a ZodError becomes a 422 naming the fields in the error handler. A missing
 * part (no body, no query) reads as `{}`; a body that is JSON `null` does not: it is not an object.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value === undefined ? {} : value);
}
