import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Archiver } from "../src/audit/archiver.ts";
import { createLocalArchive } from "../src/archive/local.ts";
import type { ArchiveStore } from "../src/archive/types.ts";
import type { Db } from "../src/db/index.ts";
import { Refresher } from "../src/publish/refresher.ts";
import type { Services } from "../src/services.ts";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

type Ready = { status: string; detail?: string; checks: Record<string, { ok: boolean; detail?: string; ms: number }> };

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What PGlite throws when its directory's disk is full: SQLSTATE 53100 disk_full. */
function diskFull(): Error {
  return Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), { code: "53100" });
}

/** The same services, but every query fails as a full disk does: what a background job meets first. */
function onFullDisk(s: Services): Services {
  const fail = () => Promise.reject(diskFull());
  const db = new Proxy(s.db, {
    get(target, prop, receiver) {
      if (prop === "execute" || prop === "transaction") return fail;
      if (prop === "select" || prop === "insert" || prop === "update" || prop === "delete")
        return () => {
          throw diskFull();
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  }) as Db;
  return { ...s, db };
}

const metricValue = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

// The on-call question is "what is stuck": a background job that keeps failing must show in
// /readyz and /metrics, not only in a log line every tenth attempt.
describe("background jobs that keep failing", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
  });
  afterAll(async () => {
    await o.close();
  });
  // Absent until the archive loop first reports.
  const archiveFailures = async () =>
    metricValue(await (await o.request("GET", "/metrics", { key: null })).text(), 'kakunin_background_consecutive_failures{loop="archive"}');

  it("a failing archive loop leaves the origin ready but names it in /readyz, and /metrics counts its failures and its last success", async () => {
    const store: ArchiveStore = {
      head: async () => ({ ok: false, error: { code: "unavailable", message: "bucket unreachable" } }),
      put: async () => ({ ok: false, error: { code: "unavailable", message: "bucket unreachable" } }),
    } as unknown as ArchiveStore;
    const archiver = new Archiver(o.services, store, {
      intervalMs: 5,
      prepare: async () => ({ ok: false, error: { message: "bucket unreachable" } }),
      log: () => undefined,
    });
    archiver.start();
    try {
      await expect.poll(async () => (await archiveFailures()) ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await archiver.stop();
    }
    const metrics = await (await o.request("GET", "/metrics", { key: null })).text();
    // Never succeeded: 0, so `time() - last_success > N` alerts on a loop that has never worked.
    expect(metricValue(metrics, 'kakunin_background_last_success_timestamp_seconds{loop="archive"}')).toBe(0);

    const ready = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ready.status, JSON.stringify(ready.body)).toBe(200); // the archive keeps its backlog; traffic can still be served
    expect(ready.body.checks.background!.ok).toBe(true);
    expect(ready.body.checks.background!.detail).toMatch(/archive: \d+ failures in a row/);
    expect(ready.body.checks.background!.detail).toMatch(/bucket unreachable/);
  });

  it("a loop that recovers reports its last success and no failures", async () => {
    const archiver = new Archiver(o.services, createLocalArchive(mkdtempSync(join(tmpdir(), "kakunin-archive-"))), { intervalMs: 5, log: () => undefined });
    archiver.start();
    try {
      await expect.poll(archiveFailures, { timeout: 5000 }).toBe(0);
    } finally {
      await archiver.stop();
    }
    const metrics = await (await o.request("GET", "/metrics", { key: null })).text();
    expect(metricValue(metrics, 'kakunin_background_last_success_timestamp_seconds{loop="archive"}')).toBeGreaterThan(0);
    const ready = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ready.body.checks.background!.detail ?? "").not.toMatch(/archive/);
  });

  it("a storage fault met only by a background job (no request wrote) makes /readyz not ready, naming the database and the job", async () => {
    expect((await o.json("GET", "/readyz", { key: null })).status).toBe(200);
    const dispatcher = new WebhookDispatcher(onFullDisk(o.services), { pollMs: 5, log: () => undefined });
    dispatcher.start();
    try {
      await expect.poll(async () => (await o.json("GET", "/readyz", { key: null })).status, { timeout: 5000 }).toBe(503);
    } finally {
      await dispatcher.stop();
    }
    const ready = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ready.body.checks.database!.ok).toBe(false);
    expect(ready.body.checks.database!.detail).toMatch(/webhooks/);
    expect(ready.body.checks.database!.detail).toMatch(/53100/);
    const metrics = await (await o.request("GET", "/metrics", { key: null })).text();
    expect(metricValue(metrics, 'kakunin_background_consecutive_failures{loop="webhooks"}')).toBeGreaterThanOrEqual(1);
  });
});

describe("the refresher on a failing database", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });

  it("counts the failure instead of leaving an unhandled rejection (which exits the origin)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const refresher = new Refresher(onFullDisk(o.services), { intervalMs: 60_000 });
    try {
      refresher.start();
      await wait(100);
    } finally {
      refresher.stop();
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
    const metrics = await (await o.request("GET", "/metrics", { key: null })).text();
    expect(metricValue(metrics, 'kakunin_background_consecutive_failures{loop="refresh"}')).toBe(1);
  });
});
