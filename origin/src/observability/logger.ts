import { AsyncLocalStorage } from "node:async_hooks";
import { innermost, sqlStateIn } from "../causes.ts";

/**
 * Structured logs: one JSON object per line on stdout (what Loki, CloudWatch, Datadog and
 * `jq` read). Fields are passed explicitly, never whole objects, so a request's Authorization
 * header, an API key or a token cannot reach a log line by accident (origin/test/logging.test.ts
 * greps a run's output for every secret it created).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;
/** How background jobs take a logger in their options: tests pass a function that collects lines. */
export type LogFn = (msg: string, fields?: LogFields) => void;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the component name). */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function isLevel(v: string | undefined): v is LogLevel | "silent" {
  return v === "silent" || (v !== undefined && v in ORDER);
}

/**
 * A logger for the few places that run without Services (startup before the config is read, the
 * PostgreSQL pool, the local key pool, key-manager failures): the same line shape, the level from
 * KAKUNIN_LOG_LEVEL. Everything that has Services uses `services.logger`.
 */
export function processLogger(component: string): Logger {
  const env = process.env.KAKUNIN_LOG_LEVEL;
  return createLogger({ level: isLevel(env) ? env : "info", base: { component } });
}

/**
 * The logger for the line a process exits on (failed to start, crashed, migrate failed): the same
 * JSON shape on stderr, where a supervisor, `docker logs` and a person at a terminal look for why a
 * process died, whatever is collecting stdout.
 */
export function exitLogger(component: string): Logger {
  return createLogger({ level: "info", base: { component }, write: (line) => void process.stderr.write(line) });
}

/**
 * An error whose whole message is for the operator (it names settings, never values): the
 * configuration refusals. errorFields keeps all its lines, where any other error keeps its first.
 */
export class OperatorError extends Error {
  override name = "OperatorError";
}

/**
 * The fields that describe a failure: `error` (the innermost cause's first line, at most 300
 * characters), `error_kind` and `sqlstate`. Never a stack, and never the outer message of a failed
 * query: drizzle puts the SQL and its parameters there (request bodies, sealed key material).
 */
export function errorFields(e: unknown): LogFields {
  const cur = innermost(e, 6);
  const sqlstate = sqlStateIn(e, 6);
  const message = cur instanceof Error ? cur.message : String(cur);
  // A configuration refusal lists every setting on its own line: the first line alone ("invalid
  // configuration:") would leave the operator guessing which.
  const text = cur instanceof OperatorError ? message.replace(/\n\s*/g, " | ").slice(0, 2000) : (message.split("\n")[0] ?? "").slice(0, 300);
  return { error: text, error_kind: e instanceof Error ? e.name : typeof e, sqlstate };
}

/**
 * The request being handled, so that every line logged on its behalf carries its `request_id`,
 * whichever logger writes it: a certify refused for the KMS logged its cause (`kms_unavailable`)
 * through a process logger, on a line the operations recipe `select(.request_id==…)` never found.
 */
const requestScope = new AsyncLocalStorage<{ request_id: string }>();

/** Runs `fn` (a request's handling) so that lines logged within it carry `requestId`. */
export function inRequest<T>(requestId: string, fn: () => T): T {
  return requestScope.run({ request_id: requestId }, fn);
}

/**
 * Runs `fn` outside any request: timers and promise chains started in it (a background job a
 * request woke up, the key pool's refill) log as what they are, nobody's request.
 */
export function outsideRequest<T>(fn: () => T): T {
  return requestScope.exit(fn);
}

export function createLogger(opts: { level?: LogLevel | "silent"; write?: (line: string) => void; base?: LogFields; now?: () => Date } = {}): Logger {
  const min = opts.level === "silent" ? Number.POSITIVE_INFINITY : ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  const base = opts.base ?? {};
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] < min) return;
    const scope = requestScope.getStore();
    const record: Record<string, unknown> = { level, time: now().toISOString(), msg, ...(scope ? { request_id: scope.request_id } : {}), ...base };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = v;
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    log,
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}
