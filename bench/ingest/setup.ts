import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, startOrigin, type Proc } from "../../test/support/system.ts";
import { onCleanup } from "../common/cleanup.ts";
import { startBenchEdge } from "./edge.ts";

export interface System {
  edge: Proc;
  origin: Proc;
  adminKey: string;
}

/**
 * The real edge (with the no-op route) and the real origin wired to each other, on random ports
 * with a random secret and admin key. Each registers its cleanup as soon as it is up.
 */
export async function startSystem(root: string): Promise<System> {
  const secret = randomBytes(32).toString("base64url");
  const adminKey = `ingest-bench-${randomBytes(12).toString("hex")}`;
  const [edgePort, originPort] = [await freePort(), await freePort()];
  for (const d of ["edge", "origin"]) mkdirSync(join(root, d));
  const registered = (p: Promise<Proc>): Promise<Proc> => p.then((x) => { onCleanup(() => x.stop()); return x; });
  // allSettled: on a failure the other process must have finished starting (and registered its
  // cleanup) before the caller cleans up.
  const [edge, origin] = await Promise.allSettled([
    registered(startBenchEdge({ port: edgePort, persistDir: join(root, "edge"), originUrl: `http://127.0.0.1:${originPort}`, secret })),
    // No key pool: the pool's background refill after enrolment would compete with the
    // measurements; without it every certify generates its key inline, before any timing.
    registered(startOrigin({
      port: originPort, dataDir: join(root, "origin"), edgeUrl: `http://127.0.0.1:${edgePort}`, secret, adminKey, env: { KAKUNIN_LOCAL_KEY_POOL: "0" },
    })),
  ]);
  if (edge.status === "rejected") throw edge.reason;
  if (origin.status === "rejected") throw origin.reason;
  return { edge: edge.value, origin: origin.value, adminKey };
}
