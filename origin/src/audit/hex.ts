/**
 * Hex of a hash over the same memory (no copy), with Node's encoder: an append writes three per
 * entry and a proof carries ~20–60, so the shared Web-API `toHex` (a string per byte) is avoided here.
 */
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
