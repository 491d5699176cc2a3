/**
 * Structured logs: one JSON object per line on stdout (what Loki, CloudWatch, Datadog and
 * `jq` read). Fields are passed explicitly, never whole objects, so a request's Authorization
 * header, an API key or a token cannot reach a log line by accident (origin/test/logging.test.ts
 * greps a run's output for every secret it created).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the component name). */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(opts: { level?: LogLevel | "silent"; write?: (line: string) => void; base?: LogFields; now?: () => Date } = {}): Logger {
  const min = opts.level === "silent" ? Number.POSITIVE_INFINITY : ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  const base = opts.base ?? {};
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] < min) return;
    const record: Record<string, unknown> = { level, time: now().toISOString(), msg, ...base };
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
