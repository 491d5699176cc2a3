/**
 * `@kakunin/verify/rules`: the rules the edge, the origin and gateways must apply identically —
 * scope matching, serial normalisation, the caller's verdict checks and the status at a time. The edge and the origin
 * import them from here (through `@kakunin/shared` or directly), so there is one copy, compiled
 * into each side. Pure functions, no dependencies, no I/O — and one stream helper both the edge
 * and the SDK's middleware need: reading a request body through a byte cap.
 */
export { inScope, scopeCovers } from "./scope.ts";
export { canonicalSerial, normaliseSerial } from "./serial.ts";
export { callerCheckReasons } from "./caller-checks.ts";
export { statusAt } from "./status-at.ts";
export { readCapped, type CappedRead } from "./capped-body.ts";
