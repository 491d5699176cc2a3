import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { pollUntil, startEdge, startOrigin, systemFixture, freePort, type Proc } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/**
 * Fault: the origin's clock runs 6 minutes ahead of the edge's (libfaketime), outside the ±5 min
 * window of the signed internal calls. Both sides must say so in words — the size and direction of
 * the skew — instead of failing with bare 401s; nothing acknowledged is lost, and once the clock is
 * right the backlog reaches the edge by itself.
 */
const fx = systemFixture();
let edge: Proc | undefined;
let origin: Proc | undefined;
afterAll(async () => {
  await origin?.stop();
  await edge?.stop();
  fx.cleanup();
});

it("clock skewed by 6 minutes between origin and edge: a clear error naming the skew on both sides, then recovery", async () => {
  const [originPort, edgePort] = [await freePort(), await freePort()];
  mkdirSync(join(fx.dir, "edge"), { recursive: true });
  edge = await startEdge({ port: edgePort, persistDir: join(fx.dir, "edge"), originUrl: `http://127.0.0.1:${originPort}`, secret: fx.secret });
  const originOpts = { port: originPort, dataDir: join(fx.dir, "origin"), edgeUrl: edge.url, secret: fx.secret, adminKey: fx.adminKey };
  origin = await startOrigin({ ...originOpts, wrap: ["faketime", "-f", "+6m"] });
  const { api, certified, edgeStatus, edgeHolds } = apis(() => origin!.url, () => edge!.url, fx.adminKey);

  const c = (await certified())!;
  expect((await api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "during skew" })).status).toBe(200);
  const said = await pollUntil(async () => (/clock skew: the caller's timestamp is 3[56]\d s ahead of this server's clock \(allowed ±300 s\)/.test(origin!.log()) ? true : undefined), 20_000, 200);
  expect(said.value).toBe(true);
  expect(await edgeStatus(c.serial)).toBeUndefined(); // refused, not half-applied

  await origin.stop();
  const t0 = performance.now();
  origin = await startOrigin(originOpts); // clock fixed
  await edgeHolds([c.serial], "revoked", 30_000);
  reportFault({ fault: "clock skew 6 min (origin ahead)", acknowledged: 2, stored: 2, duplicates: 0, recoveryMs: performance.now() - t0, note: "401 names the skew: 36x s ahead (allowed ±300 s)" });
}, 180_000);
