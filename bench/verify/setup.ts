import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, startEdge, startOrigin, type Proc } from "../../test/support/system.ts";
import { onCleanup } from "../common/cleanup.ts";
import { buildOpensslCa, type OpensslCa } from "./openssl-ca.ts";

export interface System {
  edge: Proc;
  origin: Proc;
  secret: string;
  adminKey: string;
  ca: OpensslCa;
}

/**
 * Starts the real edge (wrangler dev) and the real origin wired to it, exactly as the e2e tests
 * do, and builds the openssl CA meanwhile. Each process registers its own cleanup as soon as it
 * is up, so a failure in another branch still stops it.
 */
export async function startSystem(root: string, ca: { leaves: number; revokedEvery: number }): Promise<System> {
  const secret = randomBytes(32).toString("base64url");
  const adminKey = `verify-bench-${randomBytes(12).toString("hex")}`;
  const [edgePort, originPort] = [await freePort(), await freePort()];
  for (const d of ["edge", "origin", "openssl"]) mkdirSync(join(root, d));
  const registered = <T extends Proc>(p: Promise<T>): Promise<T> => p.then((x) => { onCleanup(() => x.stop()); return x; });
  // allSettled, not all: on a failure, the others must have finished starting (and registered
  // their cleanup) before the caller cleans up.
  const [edge, origin, built] = await Promise.allSettled([
    registered(startEdge({ port: edgePort, persistDir: join(root, "edge"), originUrl: `http://127.0.0.1:${originPort}`, secret })),
    registered(startOrigin({ port: originPort, dataDir: join(root, "origin"), edgeUrl: `http://127.0.0.1:${edgePort}`, secret, adminKey })),
    buildOpensslCa(join(root, "openssl"), ca.leaves, ca.revokedEvery),
  ]);
  for (const r of [edge, origin, built]) if (r.status === "rejected") throw r.reason;
  if (edge.status !== "fulfilled" || origin.status !== "fulfilled" || built.status !== "fulfilled") throw new Error("unreachable");
  return { edge: edge.value, origin: origin.value, secret, adminKey, ca: built.value };
}
