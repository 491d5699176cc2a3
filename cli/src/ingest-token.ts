/** Ingest tokens: the agent's bearer token for the edge (events, risk), given or minted. */
import { err, ok, type Result } from "@kakunin/shared";
import type { Parsed } from "./args.ts";
import { agentEndpoint, checkCredential, type Settings } from "./config.ts";
import { call, type Failure } from "./http.ts";
import { UsageError } from "./io.ts";

export interface IngestToken {
  token: string;
  expires_at: string;
  agent_id: string;
  serial_number: string;
}

/** `90s`, `15m`, `1h`, `1h30m`, or plain seconds; undefined when it is none of these. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** POST /v1/agents/:id/ingest-tokens with the agent credential, else the API key. */
export async function mintIngestToken(s: Settings, agentId: string, ttlSeconds?: number): Promise<Result<IngestToken, Failure>> {
  const body = ttlSeconds === undefined ? {} : { ttl_seconds: ttlSeconds };
  const r = await call<{ data: IngestToken }>("POST", agentEndpoint(s), `/v1/agents/${encodeURIComponent(agentId)}/ingest-tokens`, { body });
  return r.ok ? ok(r.value.body.data) : err(r.error);
}

/** --token and --agent are two answers to one question; checked before any file is read. */
export function checkTokenFlags(a: Parsed, help: string): void {
  if (a.str("token") !== undefined && a.str("agent") !== undefined) throw new UsageError("give --token or --agent, not both", help);
}

/**
 * The token to use: `--token`, else a token minted for `--agent` (or `mintFor`, the command's own
 * agent) with the API key, else `KAKUNIN_INGEST_TOKEN`. Flags beat the environment; minting is
 * the fallback a command with an agent id can always take.
 */
export async function resolveIngestToken(a: Parsed, s: Settings, help: string, mintFor?: string): Promise<Result<string, Failure>> {
  checkTokenFlags(a, help);
  const given = a.str("token");
  const agent = a.str("agent");
  if (given !== undefined) return ok(checkCredential(given, "the ingest token (--token)")!);
  if (agent !== undefined) return mapToken(await mintIngestToken(s, agent));
  const fromEnv = process.env.KAKUNIN_INGEST_TOKEN;
  if (fromEnv) return ok(checkCredential(fromEnv, "the ingest token (KAKUNIN_INGEST_TOKEN)")!);
  if (mintFor !== undefined) return mapToken(await mintIngestToken(s, mintFor));
  throw new UsageError("no ingest token: pass --token T, set KAKUNIN_INGEST_TOKEN, or --agent ID to mint one with the API key", help);
}

function mapToken(r: Result<IngestToken, Failure>): Result<string, Failure> {
  return r.ok ? ok(r.value.token) : r;
}
