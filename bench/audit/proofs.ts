/**
 * Inclusion-proof generation from the database, as GET /v1/audit/proofs/inclusion serves it:
 * committedReader (one SELECT per stored node) and inclusionProof, for random entries of the
 * current tree. Every proof is then checked against the root, outside the timing.
 */
import { performance } from "node:perf_hooks";
import { inclusionProof, rootHash, verifyInclusion } from "@kakunin/shared";
import { committedReader } from "@kakunin/origin/audit/append";
import type { Db } from "@kakunin/origin/db/index";
import { rng } from "./rows.ts";

export interface ProofTiming {
  size: number;
  latenciesMs: number[];
  pathLength: { min: number; max: number };
}

export async function timeProofs(db: Db, tenantId: string, size: number, count: number): Promise<ProofTiming> {
  const reader = committedReader(db, tenantId);
  const root = await rootHash(size, reader);
  const rand = rng(7);
  const latenciesMs: number[] = [];
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < count; i++) {
    const index = Math.floor(rand() * size);
    const t = performance.now();
    const path = await inclusionProof(index, size, reader);
    latenciesMs.push(performance.now() - t);
    if (!(await verifyInclusion(index, size, await reader.get(0, index), path, root))) throw new Error(`proof for entry ${index} does not verify`);
    min = Math.min(min, path.length);
    max = Math.max(max, path.length);
  }
  return { size, latenciesMs, pathLength: { min, max } };
}
