import { afterAll, expect, it } from "vitest";
import { startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/**
 * Fault: the origin is killed with SIGKILL right after acknowledging revocations, while their
 * publication to the edge is in flight. The outbox committed with each revocation; the restarted
 * origin (same instance id, so it takes its publish leases back at once) delivers them.
 */
const fx = systemFixture();
let sys: RunningSystem | undefined;
afterAll(async () => {
  await sys?.stop();
  fx.cleanup();
});

it("origin killed -9 during publish: every acknowledged revocation reaches the edge after restart", async () => {
  sys = await startSystem(fx);
  const { api, certified, edgeHolds } = apis(() => sys!.origin.url, () => sys!.edge.url, fx.adminKey);
  const certs = [];
  for (let i = 0; i < 6; i++) certs.push((await certified())!);
  await edgeHolds(certs.map((c) => c.serial), "active", 20_000);
  const answers = await Promise.all(certs.map((c) => api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "kill -9 drill" })));
  await sys.origin.stop("SIGKILL");
  const acknowledged = answers.filter((a) => a.status === 200).length;
  expect(acknowledged).toBe(certs.length);
  const t0 = performance.now();
  await sys.restartOrigin();
  await edgeHolds(certs.map((c) => c.serial), "revoked", 30_000);
  reportFault({ fault: "origin kill -9 during publish", acknowledged, stored: acknowledged, duplicates: 0, recoveryMs: performance.now() - t0, note: "recovery includes the origin's restart" });
}, 180_000);
