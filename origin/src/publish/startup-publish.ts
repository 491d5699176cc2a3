import type { Services } from "../services.ts";
import { awaitKindPublished, type PublishWait } from "./await-published.ts";
import type { Refresher } from "./refresher.ts";

/**
 * The most the origin waits, before it listens, for the edge to take the CRLs queued at start. An
 * edge that answers takes them in well under a second; one that cannot be reached ends the wait at
 * the first attempt.
 */
export const STARTUP_PUBLISH_WAIT_MS = 5000;

/**
 * Before the origin listens: waits, at most `timeoutMs`, until the edge holds every tenant's CRL
 * and CA chain (one record: /v1/crl, /v1/ca at the edge), which the refresher's first run queues
 * (and a new CA is created just before it). Without it `pnpm start` answered /healthz on both sides
 * while the edge still answered 404 for the CA chain and the CRL: a client that waited for
 * "ready" and then built its trust store from the edge failed (test/start-ready.e2e.test.ts).
 * Never an error and never longer than the bound: an edge that is down or slow does not keep the
 * origin from serving, and the publisher keeps retrying what is still pending.
 */
export async function publishBeforeListening(s: Services, refresher: Refresher, timeoutMs = STARTUP_PUBLISH_WAIT_MS): Promise<PublishWait> {
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const outcome = await Promise.race([refresher.settled().then(() => awaitKindPublished(s, "crl", Math.max(0, timeoutMs - (Date.now() - t0)))), late]).finally(
    () => clearTimeout(timer),
  );
  const fields = { component: "publisher", event: "startup_publish", outcome, ms: Date.now() - t0 };
  if (outcome === "timeout")
    s.logger.warn(`the edge has not taken the CA chains and CRLs within ${timeoutMs} ms; serving anyway, the publisher keeps retrying`, fields);
  else if (outcome === "unreachable")
    s.logger.warn("the edge is unreachable: it serves no CA chain or CRL this origin queued until it is back (the publisher retries)", fields);
  else s.logger.info(outcome === "published" ? "the edge serves every CA chain and CRL" : "publishing is off", fields);
  return outcome;
}
