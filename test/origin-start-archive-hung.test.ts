import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { agentBody } from "../origin/test/harness.ts";
import { freePort, pollUntil, startOrigin, systemFixture, type Proc } from "./support/system.ts";

// An origin restarted while its S3 archive hangs (a full Ceph OSD, a blackholed network: the
// connection is accepted, nothing answers). The archive is not on any request's path: audit
// batches wait in the database until the store takes them. Yet the origin checked the bucket
// before it opened its port, so every restart during the outage stayed deaf for the store's
// request timeout (10 s): /healthz unanswered (a liveness probe kills it again), every API call
// refused at the socket instead of served. It must listen at once and let the archiver retry.
const fx = systemFixture();
const sockets = new Set<Socket>();
let hung: Server;
let origin: Proc | undefined;
beforeAll(async () => {
  hung = createServer((s) => {
    sockets.add(s);
    s.resume();
  });
  await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await origin?.stop();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => hung.close(resolve));
  fx.cleanup();
});

const lines = (p: Proc): { event?: string; component?: string; msg?: string }[] =>
  p
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { event?: string; component?: string });

it("the origin listens and serves while the archive's S3 hangs; the archiver reports the store and retries", async () => {
  const a = hung.address();
  const port = a && typeof a === "object" ? a.port : 0;
  origin = await startOrigin({
    dataDir: join(fx.dir, "origin"),
    edgeUrl: `http://127.0.0.1:${await freePort()}`,
    secret: fx.secret,
    adminKey: fx.adminKey,
    env: {
      KAKUNIN_ARCHIVE: "s3",
      KAKUNIN_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      KAKUNIN_S3_REGION: "us-east-1",
      KAKUNIN_S3_BUCKET: "kakunin-hung-at-start",
      KAKUNIN_S3_ACCESS_KEY_ID: "KAKUNINTESTACCESS",
      KAKUNIN_S3_SECRET_ACCESS_KEY: "kakunin-test-secret",
      KAKUNIN_PUBLISH: "off",
    },
  });
  const o = origin;
  // Listening came first: no archiver line (the bucket check times out after 10 s) before it. The
  // origin gives the check 2 s, so a bucket is there by the time a prompt store's origin listens.
  const events = lines(o);
  const listening = events.findIndex((l) => l.event === "listening");
  expect(listening, o.log().slice(-3000)).toBeGreaterThanOrEqual(0);
  expect(events.slice(0, listening).filter((l) => l.component === "archiver")).toEqual([]);

  const r = await fetch(`${o.url}/v1/agents`, {
    method: "POST",
    headers: { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(agentBody({ name: "while-s3-hangs" })),
  });
  expect(r.status).toBe(201);

  // The archiver tells why the store is not ready, and keeps trying.
  await pollUntil(async () => (lines(o).some((l) => l.component === "archiver" && l.event === "pass_failed") ? true : undefined), 60_000, 200);
  const failed = lines(o).find((l) => l.component === "archiver" && l.event === "pass_failed")!;
  expect(failed.msg).toMatch(/store not ready: .*no answer within 10000 ms/);
}, 120_000);
