import { Worker } from "node:worker_threads";

/** A freshly generated RSA-2048 key, sealed exactly as local.ts unseals it. */
export interface SealedKey {
  /** The key's id (a UUID): the AES-GCM additional data, so a sealed key cannot be moved to another row. */
  id: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** iv (12 bytes) || AES-256-GCM ciphertext of the PKCS#8 private key || tag (16 bytes). */
  sealed: Uint8Array;
}

/** Where fresh keys come from; local.ts takes any implementation (tests drive the timing). */
export interface KeyGenerator {
  /** How many generations can run at once. */
  readonly threads: number;
  /** Generates and seals one key off the event loop. */
  generate(): Promise<SealedKey>;
  close(): Promise<void>;
}

/**
 * The worker's whole program, as source text: an `eval` worker needs no file on disk, so it runs
 * the same under tsx, vitest and the esbuild bundle (origin/dist/main.js has no sibling worker
 * file to point at). It generates with OpenSSL synchronously (its own thread, nothing else to do)
 * and seals in place, so the PKCS#8 never reaches the main thread and the main thread's whole
 * share of a key is one message and one INSERT.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createCipheriv, generateKeyPairSync, randomBytes, randomUUID } = require("node:crypto");
const master = Buffer.from(workerData.masterKey);
parentPort.on("message", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048, publicExponent: 65537,
    publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const id = randomUUID();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", master, iv);
  cipher.setAAD(Buffer.from(id, "utf8"));
  const sealed = new Uint8Array(Buffer.concat([iv, cipher.update(privateKey), cipher.final(), cipher.getAuthTag()]));
  privateKey.fill(0);
  const spki = new Uint8Array(publicKey);
  parentPort.postMessage({ id, spki, sealed }, [spki.buffer, sealed.buffer]);
});
`;

interface Job {
  resolve(key: SealedKey): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/**
 * `threads` worker threads, each generating one RSA-2048 key at a time: key generation on every
 * core, none of it on the event loop or the libuv threadpool (which file I/O and DNS share).
 * Workers start on first demand and are unref'd, so an idle generator never keeps the process alive.
 */
export function createKeygenWorkers(opts: { threads: number; masterKey: Uint8Array }): KeyGenerator {
  const threads = Math.max(1, Math.floor(opts.threads));
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let closed = false;

  const spawn = (): Slot => {
    // execArgv []: the worker needs no loader (tsx) or flags of the parent, only node:crypto.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { masterKey: opts.masterKey } });
    worker.unref();
    const slot: Slot = { worker };
    worker.on("message", (key: SealedKey) => {
      const job = slot.job;
      slot.job = undefined;
      job?.resolve(key);
      dispatch();
    });
    // A crashed worker fails its job and is replaced on the next demand.
    const gone = (e: Error) => {
      const at = slots.indexOf(slot);
      if (at >= 0) slots.splice(at, 1);
      slot.job?.reject(e);
      slot.job = undefined;
      dispatch();
    };
    worker.on("error", gone);
    worker.on("exit", (code) => gone(new Error(`key generation worker exited (code ${code})`)));
    slots.push(slot);
    return slot;
  };

  function dispatch(): void {
    while (queue.length > 0 && !closed) {
      const slot = slots.find((s) => !s.job) ?? (slots.length < threads ? spawn() : undefined);
      if (!slot) return;
      slot.job = queue.shift();
      slot.worker.postMessage(0);
    }
  }

  return {
    threads,
    generate() {
      if (closed) return Promise.reject(new Error("key generator closed"));
      return new Promise<SealedKey>((resolve, reject) => {
        queue.push({ resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error("key generator closed"));
      await Promise.all(
        slots.splice(0).map((s) => {
          s.job?.reject(new Error("key generator closed"));
          s.job = undefined;
          return s.worker.terminate();
        }),
      );
    },
  };
}
