import type { z } from "zod";

/** Validates one part of a request; a ZodError becomes a 422 naming the fields in the error handler. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value ?? {});
}
