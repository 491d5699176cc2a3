import type { KeyManager } from "@kakunin/origin/kms/types";

/** Durations (ms) of every KeyManager call, in call order, for the profile's breakdown. */
export interface KeyTimings {
  createKey: number[];
  sign: number[];
}

/**
 * Decorates a KeyManager so the profile can split certify into key creation and CA signing
 * without touching origin code: the origin only ever sees the KeyManager interface.
 */
export function timedKeys(inner: KeyManager, into: KeyTimings): KeyManager {
  const timed = async <T>(bucket: number[], op: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await op();
    } finally {
      bucket.push(performance.now() - t0);
    }
  };
  const { warm, poolStatus } = inner;
  return {
    kind: inner.kind,
    createKey: (label, opts) => timed(into.createKey, () => inner.createKey(label, opts)),
    getPublicKey: (ref) => inner.getPublicKey(ref),
    scheduleDeletion: (ref, opts) => inner.scheduleDeletion(ref, opts),
    listKeys: () => inner.listKeys(),
    sign: (ref, data) => timed(into.sign, () => inner.sign(ref, data)),
    // Forwarded untimed: without them the wrapped backend would never fill its key pool.
    ...(warm ? { warm: () => warm.call(inner) } : {}),
    ...(poolStatus ? { poolStatus: () => poolStatus.call(inner) } : {}),
    close: () => inner.close(),
  };
}
