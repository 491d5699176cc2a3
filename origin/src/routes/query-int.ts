import { z } from "@hono/zod-openapi";

/** A plain decimal integer: no sign, no exponent, no hex, no spaces, no leading zeros, ≤ 16 digits. */
const DECIMAL = /^(0|[1-9]\d{0,15})$/;

/**
 * An integer query parameter, read strictly. `z.coerce.number()` took anything `Number()` takes:
 * an empty `?entry=` was 0 (the proof of leaf 0), `0x1` was 1, `1e1` was 10, `+5` and ` 0` were
 * numbers. A client that sent any of those meant something else, so it is a 422 naming the field.
 */
export function queryInt(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .regex(DECIMAL, "must be a decimal integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: "integer", minimum: min, ...(max < Number.MAX_SAFE_INTEGER && { maximum: max }) });
}
