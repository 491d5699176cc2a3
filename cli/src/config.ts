/**
 * Where the CLI connects and with which key. Precedence, highest first: flags (`--origin`,
 * `--edge`, `--api-key`), environment (`KAKUNIN_ORIGIN_URL`, `KAKUNIN_EDGE_URL`,
 * `KAKUNIN_API_KEY`), the config file `kakunin init` writes, the local defaults of `pnpm start`.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Parsed } from "./args.ts";
import type { Endpoint } from "./http.ts";
import { IoError, UsageError } from "./io.ts";

export const DEFAULT_ORIGIN = "http://127.0.0.1:8788";
export const DEFAULT_EDGE = "http://127.0.0.1:8787";

/** What the config file holds (snake_case, like every JSON document of the API). */
export interface ConfigFile {
  origin_url?: string;
  edge_url?: string;
  api_key?: string;
  /** The origin's root CA (PEM) as `kakunin init` saw it: the trust anchor of `audit verify`. */
  root_ca_pem?: string;
}

export interface Settings {
  originUrl: string;
  edgeUrl: string;
  apiKey?: string;
  /**
   * An agent credential (`kka_…`, `--credential` / KAKUNIN_AGENT_CREDENTIAL; never read from the
   * config file, which holds the operator's key). What an agent runtime should hold instead of an
   * API key: it can mint that agent's ingest tokens (and sign as it), nothing else.
   */
  agentCredential?: string;
  configPath: string;
}

type Env = Record<string, string | undefined>;

/** `$KAKUNIN_CONFIG`, else `$XDG_CONFIG_HOME/kakunin/config.json`, else `~/.config/kakunin/config.json`. */
export function configPath(env: Env = process.env): string {
  if (env.KAKUNIN_CONFIG) return env.KAKUNIN_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "kakunin", "config.json");
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof Error && "code" in e && e.code === "ENOENT") return {};
    throw new IoError(`cannot read config file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new IoError(`config file ${path} is not JSON; fix or delete it (kakunin init writes a new one)`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new IoError(`config file ${path} is not a JSON object`);
  const out: ConfigFile = {};
  for (const k of ["origin_url", "edge_url", "api_key", "root_ca_pem"] as const) {
    const v = (doc as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (typeof v !== "string") throw new IoError(`config file ${path}: ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/**
 * Writes the file with mode 0600 (it holds an admin key) in a 0700 directory, through a temporary
 * file and a rename, so a crash never leaves half a config behind.
 */
export function writeConfigFile(path: string, cfg: ConfigFile): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e) {
    throw new IoError(`cannot write config file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function baseUrl(raw: string, what: string, help: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`${what} is not a URL: ${raw}`, help);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`${what} must be http(s): ${raw}`, help);
  if (u.username || u.password) {
    // fetch refuses such a URL anyway; say why without printing the password.
    u.username = "";
    u.password = "";
    throw new UsageError(`${what} must not hold a user name or password (the API key goes in --api-key): ${u.toString()}`, help);
  }
  return u.toString().replace(/\/+$/, "");
}

/**
 * A credential goes into an Authorization header, so it must be printable ASCII without spaces.
 * Anything else is refused here (exit 2) without quoting it: fetch's own error would quote the
 * whole header value, secret included, and a pasted line break would smuggle in a header.
 */
export function checkCredential(value: string | undefined, what: string): string | undefined {
  if (value === undefined || /^[\x21-\x7e]+$/.test(value)) return value;
  throw new IoError(`${what} holds a character a credential cannot have (a control character, a space or non-ASCII); it is not shown here`);
}

/** Resolves the connection settings for a command from its flags, the environment and the file. */
export function resolveSettings(args: Parsed, help: string, env: Env = process.env): Settings {
  const path = configPath(env);
  const file = readConfigFile(path);
  const pick = (flag: string, envName: string, fromFile: string | undefined): string | undefined =>
    args.str(flag) ?? (env[envName] || undefined) ?? fromFile;
  /** The value and where it came from, for a message about it that must not quote it. */
  const pickSecret = (what: string, flag: string, envName: string, fromFile: string | undefined): string | undefined => {
    const [value, source] = args.str(flag) !== undefined ? [args.str(flag), `--${flag}`] : env[envName] ? [env[envName], envName] : [fromFile, `config file ${path}`];
    return checkCredential(value, `${what} (${source})`);
  };
  return {
    originUrl: baseUrl(pick("origin", "KAKUNIN_ORIGIN_URL", file.origin_url) ?? DEFAULT_ORIGIN, "the origin URL", help),
    edgeUrl: baseUrl(pick("edge", "KAKUNIN_EDGE_URL", file.edge_url) ?? DEFAULT_EDGE, "the edge URL", help),
    apiKey: pickSecret("the API key", "api-key", "KAKUNIN_API_KEY", file.api_key),
    agentCredential: pickSecret("the agent credential", "credential", "KAKUNIN_AGENT_CREDENTIAL", undefined),
    configPath: path,
  };
}

/** The API key, or an exit-2 error naming the three ways to give one. */
export function requireApiKey(s: Settings): string {
  if (s.apiKey) return s.apiKey;
  throw new IoError(`no API key: pass --api-key, set KAKUNIN_API_KEY, or run \`kakunin init\` (config file ${s.configPath})`);
}

/** The origin, authenticated with the API key (required). */
export function originEndpoint(s: Settings): Endpoint {
  return { name: "origin", url: s.originUrl, bearer: requireApiKey(s) };
}

/** The origin for an agent's own operations: its agent credential when given, else the API key. */
export function agentEndpoint(s: Settings): Endpoint {
  if (s.agentCredential) return { name: "origin", url: s.originUrl, bearer: s.agentCredential };
  return originEndpoint(s);
}

export function edgeEndpoint(s: Settings, bearer?: string): Endpoint {
  return { name: "edge", url: s.edgeUrl, bearer };
}
