/** Thrown inside the fast path of `kakunin audit verify` when it gives up (fast-verify.ts); never escapes verifyFileFast. */
export class FastPathBail extends Error {}
