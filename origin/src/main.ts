import type { Server } from "node:http";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { answerClientErrors } from "./http/client-error.ts";
import { DrainState } from "./http/drain.ts";
import { applyServerLimits, serverLimits, serverOptions } from "./http/server-limits.ts";
import { createApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { buildServices } from "./build-services.ts";
import { ADMIN_KEY_ADVISED_LENGTH, loadConfig } from "./config.ts";
import { httpEdgeClient } from "./publish/edge-client.ts";
import { Publisher } from "./publish/publisher.ts";
import { Refresher } from "./publish/refresher.ts";
import { publishBeforeListening } from "./publish/startup-publish.ts";
import { archiveFromConfig } from "./archive/from-config.ts";
import { Archiver } from "./audit/archiver.ts";
import { WebhookDispatcher } from "./webhooks/dispatcher.ts";
import { keyManagerSigners } from "./publish/signers.ts";
import { TidyJob } from "./lifecycle/tidy-job.ts";
import { migrateCommand } from "./migrate-command.ts";
import { errorFields, exitLogger } from "./observability/logger.ts";
import { shutdownOnSignal, type Stoppable } from "./shutdown.ts";

const USAGE = `usage: kakunin-origin [serve]   start the origin (KAKUNIN_MIGRATE=auto|off decides whether it migrates first)
       kakunin-origin migrate   apply pending database migrations and exit`;

/** The least a shutdown waits for work under way before it exits anyway (status 1). */
const SHUTDOWN_GRACE_MS = 12_000;

/** `pnpm start` for the origin: config → services → bootstrap → listen. */
async function main(): Promise<void> {
  const config = loadConfig();
  const built = await buildServices(config);
  const log = built.services.logger.child({ component: "origin" });
  const bootLog = built.services.logger.child({ component: "bootstrap" });
  const boot = await bootstrap(built.services.db, config.KAKUNIN_ADMIN_KEY, { dataDir: config.KAKUNIN_DATA_DIR });
  if (boot.initTokenFile) {
    bootLog.info(`tenant 'default' has no admin key yet: run \`kakunin init\` to create the first admin key (one-time bootstrap token in ${boot.initTokenFile}; from another directory: kakunin init --data-dir ${resolve(config.KAKUNIN_DATA_DIR)})`, {
      event: "awaiting_init", init_token_file: boot.initTokenFile,
    });
  }
  if (boot.replacedAdminKeys) {
    // Loud on purpose: a rotation by config is expected, a change nobody planned is worth a look.
    bootLog.warn("KAKUNIN_ADMIN_KEY changed: the previous bootstrap admin key is revoked (audited api_key.revoked)", {
      event: "bootstrap_admin_key_replaced", api_key_ids: boot.replacedAdminKeys.join(","),
    });
  }
  if (config.KAKUNIN_ADMIN_KEY !== undefined && config.KAKUNIN_ADMIN_KEY.length < ADMIN_KEY_ADVISED_LENGTH) {
    bootLog.warn(`KAKUNIN_ADMIN_KEY is shorter than ${ADMIN_KEY_ADVISED_LENGTH} characters: fine for a local run, guessable anywhere else`, { event: "bootstrap_admin_key_short" });
  }
  if (boot.adminKeyRevoked) {
    bootLog.warn("KAKUNIN_ADMIN_KEY names a revoked API key; it stays revoked. Use another admin key, or set a new KAKUNIN_ADMIN_KEY.", { event: "bootstrap_admin_key_revoked" });
  }
  // Create the root and the default tenant's issuing CA now, so the first certify is not slow.
  // A KeyManager that is not configured only logs: the origin still serves what needs no key.
  const ca = await built.services.ca.issuingFor({ id: boot.tenantId, name: "default" });
  if (!ca.ok) log.warn("CA not ready", { event: "ca_not_ready", code: ca.error.code, error: ca.error.message.slice(0, 300) });
  built.services.keys.warm?.();
  let publisher: Publisher | undefined;
  let refresher: Refresher | undefined;
  const jobs: Stoppable[] = [];
  const drain = new DrainState();
  built.services.drain = drain;
  let server: Server | undefined;
  // Signals are handled from the first background job on, not from the listen: the waits before
  // listening (the bucket check, the edge taking the CRLs) last seconds with every job running, and
  // a SIGTERM then killed the process outright (a webhook the receiver acknowledged was never
  // written down; test/origin-start-signal.test.ts). Before listening, a signal stops the jobs
  // started so far and closes the database, and the origin never opens its port.
  // Long enough for the slowest bounded step under way to finish and be recorded (a webhook send
  // waits up to KAKUNIN_WEBHOOK_TIMEOUT_MS; KMS, S3 and edge calls are shorter), and under
  // TimeoutStopSec of the shipped systemd unit.
  const graceMs = Math.max(SHUTDOWN_GRACE_MS, config.KAKUNIN_WEBHOOK_TIMEOUT_MS + 2000);
  const exit = (code: number) => process.exit(code);
  let stopRequested: (() => void) | undefined;
  const stopped = new Promise<"stopped">((r) => (stopRequested = () => r("stopped")));
  const whileStarting = shutdownOnSignal({ server: { close: (done) => done() }, jobs, close: () => built.close(), log, graceMs, drainMs: 0, drain: () => drain.start(), exit });
  let serving: ((signal: string) => void) | undefined;
  const whileServing = (srv: Server) =>
    (serving ??= shutdownOnSignal({ server: srv, jobs, close: () => built.close(), log, graceMs, drainMs: config.KAKUNIN_SHUTDOWN_DRAIN_MS, drain: () => drain.start(), exit }));
  const onSignal = (signal: string) => {
    if (server) return whileServing(server)(signal);
    stopRequested?.();
    whileStarting(signal);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  if (config.KAKUNIN_PUBLISH === "on") {
    publisher = new Publisher(built.services, httpEdgeClient(config.KAKUNIN_EDGE_URL, built.services.edgeSecret), keyManagerSigners(built.services), {
      instanceId: `${hostname()}:${resolve(config.KAKUNIN_DATA_DIR)}:${config.KAKUNIN_ORIGIN_PORT}`,
    });
    built.services.publisher = publisher;
    publisher.start();
    const r = (refresher = new Refresher(built.services));
    r.start();
    const p = publisher;
    jobs.push({ name: "publish", stop: () => p.stop() }, { name: "refresh", stop: () => r.stop() });
  }
  const archive = archiveFromConfig(config);
  // The store is readied (S3: the Object Lock bucket created or checked) before the port opens when
  // it answers within ARCHIVE_PREPARE_WAIT_MS, and otherwise by the archiver, which takes over the
  // same call: the archive is on no request's path, and an S3 that hung held every start for its
  // request timeout (10 s) with the port closed, /healthz included.
  let preparing: ReturnType<typeof archive.prepare> | undefined = archive.prepare();
  preparing.catch(() => undefined); // a rejection is the archiver's to report when it takes the call over
  const prepared = await Promise.race([settledWithin(preparing, ARCHIVE_PREPARE_WAIT_MS), stopped]);
  if (prepared === "stopped") return;
  if (prepared) {
    preparing = undefined;
    if (!prepared.ok) log.warn("archive not ready; the archiver retries", { component: "archiver", event: "archive_not_ready", code: prepared.error.code, error: prepared.error.message.slice(0, 300) });
  }
  const archiver = new Archiver(built.services, archive.store, {
    instanceId: `${hostname()}:${resolve(config.KAKUNIN_DATA_DIR)}`,
    prepare: async () => {
      const pending = preparing;
      preparing = undefined;
      const r = await (pending ?? archive.prepare());
      return r.ok ? { ok: true } : { ok: false, error: r.error };
    },
    batchSize: config.KAKUNIN_ARCHIVE_BATCH, maxAgeMs: config.KAKUNIN_ARCHIVE_MAX_AGE_S * 1000, retentionDays: config.KAKUNIN_ARCHIVE_RETENTION_DAYS,
  });
  archiver.start();
  jobs.push({ name: "archive", stop: () => archiver.stop() });
  const tidyJob = new TidyJob(built.services);
  tidyJob.start();
  jobs.push({ name: "tidy", stop: () => tidyJob.stop() });
  const webhooks = new WebhookDispatcher(built.services, {
    allowPrivate: config.KAKUNIN_WEBHOOK_ALLOW_PRIVATE === "1", maxAttempts: config.KAKUNIN_WEBHOOK_MAX_ATTEMPTS,
    baseBackoffMs: config.KAKUNIN_WEBHOOK_BACKOFF_MS, timeoutMs: config.KAKUNIN_WEBHOOK_TIMEOUT_MS,
    retentionDays: config.KAKUNIN_WEBHOOK_RETENTION_DAYS,
    instanceId: `${hostname()}:${resolve(config.KAKUNIN_DATA_DIR)}:${config.KAKUNIN_ORIGIN_PORT}`,
  });
  built.services.webhooks = webhooks;
  webhooks.start();
  jobs.push({ name: "webhooks", stop: () => webhooks.stop() });
  const app = createApp(built.services);
  // Listening (/healthz answering) once the edge serves the CA chains and CRLs queued at start, or
  // after a short bound: whoever waits for "ready" can build a trust store from the edge at once.
  // A loser's later rejection (the database closed by a stop meanwhile) is handled by the race.
  if (refresher && (await Promise.race([publishBeforeListening(built.services, refresher), stopped])) === "stopped") return;
  const limits = serverLimits(config);
  server = serve({ fetch: app.fetch, hostname: config.KAKUNIN_ORIGIN_HOST, port: config.KAKUNIN_ORIGIN_PORT, serverOptions: serverOptions(limits) }, (info) => {
    log.info("listening", { event: "listening", url: `http://${info.address}:${info.port}`, db: built.database.driver, keys: built.services.keys.kind });
  }) as Server;
  applyServerLimits(server, limits);
  answerClientErrors(server);
}

const command = process.argv[2] ?? "serve";
if (command === "--help" || command === "-h" || command === "help") {
  console.log(USAGE);
} else if (command === "migrate") {
  Promise.resolve().then(() => migrateCommand(loadConfig())).then((code) => process.exit(code), (e: unknown) => {
    exitLogger("migrate").error("migrate failed", { event: "migrate_failed", ...errorFields(e) });
    process.exit(1);
  });
} else if (command === "serve") {
  // A crash is logged like everything else (one JSON line, no stack) before the process exits, so
  // the last line of a crash-looping origin's log says why.
  const crash = (event: string) => (e: unknown) => {
    exitLogger("origin").error("crashed", { event, ...errorFields(e) });
    process.exit(1);
  };
  process.on("uncaughtException", crash("uncaught_exception"));
  process.on("unhandledRejection", crash("unhandled_rejection"));
  main().catch((e: unknown) => {
    exitLogger("origin").error("failed to start", { event: "start_failed", ...errorFields(e) });
    process.exit(1);
  });
} else {
  // A mistyped command is a person at a terminal: the usage, as --help prints it, after one line.
  process.stderr.write(`kakunin-origin: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
  process.exit(2);
}

/** How long a start waits for the archive store's bucket check before it listens anyway. */
const ARCHIVE_PREPARE_WAIT_MS = 2000;

/** The promise's value if it settles within `ms`, else undefined (it goes on running). */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
