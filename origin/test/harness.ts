import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { signInternal } from "@kakunin/shared";
import { createApp } from "../src/app.ts";
import { bootstrap } from "../src/bootstrap.ts";
import { buildServices } from "../src/build-services.ts";
import type { Clock } from "../src/clock.ts";
import { loadConfig } from "../src/config.ts";
import type { Database } from "../src/db/index.ts";
import type { KeyManager } from "../src/kms/types.ts";
import type { Logger } from "../src/observability/logger.ts";
import type { Services } from "../src/services.ts";
import { pgliteTemplate } from "./pglite-template.ts";
import { migratedPostgresTemplate, whileInUse } from "./postgres-template.ts";

export type DbKind = "pglite" | "postgres";

/** PostgreSQL server for tests: TEST_DATABASE_URL, else DATABASE_URL. */
export function postgresUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
}

/**
 * The databases every repository test runs against. In CI PostgreSQL is required, so a broken
 * service start fails loudly instead of silently testing PGlite alone.
 */
export function dbKinds(): DbKind[] {
  if (postgresUrl()) return ["pglite", "postgres"];
  if (process.env.CI === "true") throw new Error("CI=true but neither TEST_DATABASE_URL nor DATABASE_URL is set");
  return ["pglite"];
}

/**
 * A fresh PostgreSQL database on the test server; dropped by the returned function. Empty, or with
 * `migrated` a copy of the migrated template database (postgres-template.ts), which the origin's
 * migrator then finds current.
 */
export async function freshPostgresDatabase(opts: { migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const base = postgresUrl();
  if (!base) throw new Error("no PostgreSQL URL for tests");
  const template = opts.migrated ? await migratedPostgresTemplate(base) : undefined;
  const name = `kakunin_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  // A copy fails while any session is on the template (its builder's closing one, briefly).
  await whileInUse(() => admin.query(`create database ${name}${template ? ` template ${template}` : ""}`));
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is: text, or bytes (a compressed body). */
  rawBody?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
}

export interface TestOrigin {
  services: Services;
  database: Database;
  adminKey: string;
  kind: DbKind;
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** Request + JSON body, typed loosely for assertions. */
  json<T = Record<string, unknown>>(method: string, path: string, opts?: RequestOptions): Promise<{ status: number; body: T; res: Response }>;
  close(): Promise<void>;
}

/** A real origin (real DB, real KeyManager, real CA) driven through app.request, no socket. */
export async function startTestOrigin(
  kind: DbKind,
  opts: {
    clock?: Clock; keys?: (db: Database) => KeyManager; env?: Record<string, string>; logger?: Logger;
    /** An existing PostgreSQL database (e.g. one restored from a dump); not dropped on close. */
    databaseUrl?: string; adminKey?: string;
    /** An existing KAKUNIN_DATA_DIR (e.g. one restored from a backup): on PGlite its `pglite/` database is used, not an in-memory one; not removed on close. */
    dataDir?: string;
  } = {},
): Promise<TestOrigin> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kakunin-test-"));
  const pgdb = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : kind === "postgres" ? await freshPostgresDatabase({ migrated: opts.env?.KAKUNIN_MIGRATE !== "off" }) : undefined;
  const adminKey = opts.adminKey ?? `test-admin-${randomBytes(12).toString("hex")}`;
  const config = loadConfig({
    KAKUNIN_DATA_DIR: dataDir,
    KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"),
    KAKUNIN_ADMIN_KEY: adminKey,
    KAKUNIN_LOG_LEVEL: "silent",
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
    ...opts.env,
  });
  // In memory: start from the migrated template rather than a fresh initdb (pglite-template.ts);
  // not with migrations off, where a test would want the empty database it asked for.
  const template = !opts.dataDir && !pgdb && config.KAKUNIN_MIGRATE !== "off" ? { pgliteTemplate: await pgliteTemplate() } : {};
  const built = await buildServices(config, { inMemoryDb: !opts.dataDir, clock: opts.clock, keys: opts.keys, logger: opts.logger, ...template });
  await bootstrap(built.services.db, adminKey);
  const app = createApp(built.services);
  const request = (method: string, path: string, o: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? adminKey : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    return Promise.resolve(app.request(path, { method, headers, body }));
  };
  return {
    services: built.services,
    database: built.database,
    adminKey,
    kind,
    request,
    async json<T>(method: string, path: string, o?: RequestOptions) {
      const res = await request(method, path, o);
      const text = await res.text();
      // Only JSON is parsed (GET /metrics answers Prometheus text).
      const isJson = /json/i.test(res.headers.get("content-type") ?? "");
      return { status: res.status, body: (text && isJson ? JSON.parse(text) : {}) as T, res };
    },
    async close() {
      await built.close();
      await pgdb?.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A signed edge → origin call (what the edge's forwarding sends), e.g. `/internal/v1/events`. */
export async function postInternal(o: TestOrigin, path: string, doc: unknown): Promise<Response> {
  const body = JSON.stringify(doc);
  const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
  return o.request("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
}

/** The edge's verdict on a forwarded event: low with no reasons unless a test says otherwise. */
export interface EdgeVerdict {
  score: number;
  band: "low" | "medium" | "high";
  reasons: { feature: string; contribution: number; detail: string }[];
}

/**
 * One event as the edge forwards it to `/internal/v1/events` (post `{ events: [...] }` with
 * postInternal): whose it is, the edge's verdict, received now.
 */
export function forwardedEvent(
  to: { agent: string; tenant: string; serial: string },
  event: Record<string, unknown>,
  verdict: EdgeVerdict = { score: 0.1, band: "low", reasons: [] },
): Record<string, unknown> {
  return { agent_id: to.agent, tenant_id: to.tenant, serial_number: to.serial, ...verdict, received_at: new Date().toISOString(), event };
}

export const SAMPLE_HASH = `sha256:${"ab".repeat(32)}`;

export function agentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "trading-bot-7f3a",
    model: { name: "gpt-4o", version: "2024-08-06", hash: SAMPLE_HASH },
    owner: { name: "Alice Risk", email: "alice@bank.example" },
    scopes: ["orders.*", "crm.lookup_customer"],
    ...overrides,
  };
}

/** Rows of a raw `db.execute()` result: node-postgres wraps them in `.rows`, PGlite too; be lenient. */
export function rowsOf<T>(result: unknown): T[] {
  if (result && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) return result.rows as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}

/**
 * Follows a cursor-paged list (`{data, next_cursor}`) from its first page, `limit` rows a page,
 * asserting each page is a 200 of at most `limit` rows: every row and the number of pages (at
 * most 50, so a cursor that never ends fails the test instead of hanging it).
 */
export async function allPages<T>(o: TestOrigin, path: string, limit: number, key?: string): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const r: { status: number; body: { data: T[]; next_cursor: string | null } } = await o.json<{ data: T[]; next_cursor: string | null }>(
      "GET",
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { key },
    );
    if (r.status !== 200 || r.body.data.length > limit) throw new Error(`page ${pages + 1} of ${path}: ${r.status}, ${r.body.data?.length} rows`);
    rows.push(...r.body.data);
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor && pages < 50);
  if (cursor) throw new Error(`${path}: still a next_cursor after 50 pages`);
  return { rows, pages };
}
