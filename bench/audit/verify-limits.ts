/**
 * What `kakunin audit verify` of a v3 bundle cannot go below, measured in this process on the same
 * file as the SHA-256 pass (bench/README.md, "Evidence bundles v3"): reading the bytes, one
 * SHA-256 call per entry (its leaf), the multiproof's node hashes, a structural walk of every
 * entry's bytes, the field scan the fast path does (cli/src/verify/entry-scan.ts), and starting
 * the CLI process. Not constant memory: the file is held whole here, only to time each part alone.
 */
import { execFileSync } from "node:child_process";
import { hash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { EntryFields, scanEntry, skipValue } from "../../cli/src/verify/entry-scan.ts";

export interface Limits {
  readMs: number;
  leafMs: number;
  nodeMs: number;
  walkMs: number;
  scanMs: number;
  startMs: number;
  entries: number;
}

/** Offsets [start, end) of the file's v3 entries (objects in `entries`), found once, untimed. */
function entrySpans(buf: Buffer): [number, number][] {
  const spans: [number, number][] = [];
  let i = buf.indexOf('"entries":[') + 11;
  for (;;) {
    const end = skipValue(buf, i, buf.length);
    if (end < 0) break;
    if (buf[i] === 0x7b) spans.push([i, end]);
    if (buf[end] !== 0x2c) break;
    i = end + 1;
  }
  return spans;
}

export async function verifyLimits(file: string, cli: string): Promise<Limits> {
  let t = performance.now();
  for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) void _;
  const readMs = performance.now() - t;
  const buf = readFileSync(file);
  const spans = entrySpans(buf);
  t = performance.now();
  const leaves: string[] = [];
  for (const [s, e] of spans) {
    const before = buf[s - 1]!;
    buf[s - 1] = 0;
    leaves.push(hash("sha256", buf.subarray(s - 1, e), "hex"));
    buf[s - 1] = before;
  }
  const leafMs = performance.now() - t;
  // About one node hash per leaf (a run of consecutive leaves): n - 1 of them, as the CLI computes them.
  const scratch = Buffer.alloc(65);
  scratch[0] = 1;
  t = performance.now();
  let acc = leaves[0]!;
  for (let k = 1; k < leaves.length; k++) {
    scratch.write(acc, 1, "hex");
    scratch.write(leaves[k]!, 33, "hex");
    acc = hash("sha256", scratch, "hex");
  }
  const nodeMs = performance.now() - t;
  t = performance.now();
  let x = 0;
  for (const [s] of spans) x += skipValue(buf, s, buf.length);
  const walkMs = performance.now() - t;
  const latin1 = buf.toString("latin1");
  t = performance.now();
  for (const [s] of spans) x += scanEntry(buf, s, buf.length, new EntryFields(), latin1);
  const scanMs = performance.now() - t;
  t = performance.now();
  execFileSync(process.execPath, [cli, "--help"], { stdio: "ignore" });
  const startMs = performance.now() - t;
  if (x === 0) throw new Error("nothing scanned");
  return { readMs, leafMs, nodeMs, walkMs, scanMs, startMs, entries: spans.length };
}
