/**
 * Proof latency through the real routes (GET /v1/audit/proofs/inclusion and /consistency, auth,
 * validation, database, JSON), against the origin's own GET /healthz measured the same way:
 * in-process `app.request`, one request at a time, interleaved so both see the same load.
 * Every answer is checked (status 200; a sample of proofs verified against its root) outside the timing.
 */
import { performance } from "node:perf_hooks";
import { verifyConsistency, verifyInclusion } from "@kakunin/shared";
import type { TestOrigin } from "../../origin/test/harness.ts";
import { rng } from "./rows.ts";

export interface ProofLatency {
  healthzMs: number[];
  /** GET /v1/tenant: authentication (one indexed lookup) and one more query, no proof. */
  tenantMs: number[];
  inclusionMs: number[];
  consistencyMs: number[];
}

const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

async function timed(o: TestOrigin, path: string, key: string | null): Promise<{ ms: number; body: unknown }> {
  const t = performance.now();
  const res = await o.request("GET", path, { key });
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 200)}`);
  return { ms, body: JSON.parse(text) };
}

interface Inclusion {
  data: { leaf_index: number; tree_size: number; leaf_hash: string; root_hash: string; audit_path: string[] };
}
interface Consistency {
  data: { first: number; second: number; first_root: string; second_root: string; proof: string[] };
}

/**
 * One pass of `count` interleaved requests, random entries and sizes drawn from `seed`. A second
 * pass with another seed asks for other entries: what it gains over the first is what the origin
 * kept from it (caches), not repeated requests.
 */
export async function timeProofRoutes(o: TestOrigin, size: number, count: number, seed = 7): Promise<ProofLatency> {
  const rand = rng(seed);
  const out: ProofLatency = { healthzMs: [], tenantMs: [], inclusionMs: [], consistencyMs: [] };
  // Warm-up: first requests compile routes and fill the statement caches.
  for (let i = 0; i < 20; i++) {
    await timed(o, "/healthz", null);
    await timed(o, `/v1/audit/proofs/inclusion?entry=${i}&tree_size=${size}`, o.adminKey);
  }
  for (let i = 0; i < count; i++) {
    out.healthzMs.push((await timed(o, "/healthz", null)).ms);
    out.tenantMs.push((await timed(o, "/v1/tenant", o.adminKey)).ms);
    const entry = Math.floor(rand() * size);
    const inc = await timed(o, `/v1/audit/proofs/inclusion?entry=${entry}&tree_size=${size}`, o.adminKey);
    out.inclusionMs.push(inc.ms);
    const from = 1 + Math.floor(rand() * (size - 1));
    const con = await timed(o, `/v1/audit/proofs/consistency?from=${from}&to=${size}`, o.adminKey);
    out.consistencyMs.push(con.ms);
    if (i % 50 === 0) {
      const p = (inc.body as Inclusion).data;
      if (!(await verifyInclusion(p.leaf_index, p.tree_size, bytes(p.leaf_hash), p.audit_path.map(bytes), bytes(p.root_hash))))
        throw new Error(`inclusion proof of ${entry} does not verify`);
      const c = (con.body as Consistency).data;
      if (!(await verifyConsistency(c.first, c.second, bytes(c.first_root), bytes(c.second_root), c.proof.map(bytes))))
        throw new Error(`consistency proof ${from}→${size} does not verify`);
    }
  }
  return out;
}
