/**
 * `kakunin init`: like `vault operator init`. The origin's first start without KAKUNIN_ADMIN_KEY
 * writes a one-time bootstrap token into its data dir; this exchanges it for the first admin API
 * key (POST /v1/init), prints the key once and saves origin, edge and key in the config file.
 * With --api-key (or KAKUNIN_API_KEY) it only checks that key and saves the config.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { resolveSettings, writeConfigFile, type Settings } from "../config.ts";
import { EDGE_HELP, helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure, type Endpoint } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "init [--data-dir DIR] [--origin URL] [--edge URL] [--api-key KEY] [--json]";

const help = helpText(synopsis, `
Creates the first admin API key of tenant \`default\` and saves the configuration the other
commands use (origin URL, edge URL, API key, and the origin's root CA, which \`kakunin audit
verify\` then trusts without --root; mode 0600) in $KAKUNIN_CONFIG, else
$XDG_CONFIG_HOME/kakunin/config.json, else ~/.config/kakunin/config.json.

The origin's first start without KAKUNIN_ADMIN_KEY writes a one-time bootstrap token to
<data dir>/init.token (mode 0600); init reads it, exchanges it for the key (POST /v1/init) and
prints the key once. Run it where the origin's data dir is readable. A second init is refused:
the origin is already initialized (exit 3).

With --api-key KEY (or KAKUNIN_API_KEY), e.g. the KAKUNIN_ADMIN_KEY the origin was started with,
init only checks the key (GET /v1/tenant) and saves the configuration.`, [
  "  --data-dir DIR   the origin's KAKUNIN_DATA_DIR (default $KAKUNIN_DATA_DIR, else ./.kakunin)",
  ORIGIN_HELP, EDGE_HELP, JSON_HELP,
]);

interface Initialized { api_key: string; tenant_id: string; role: string }
interface Tenant { id: string; name: string; role: string; api_key_id: string }

async function readBootstrapToken(dataDir: string): Promise<string> {
  const file = resolve(dataDir, "init.token");
  try {
    const token = (await readFile(file, "utf8")).trim();
    if (token) return token;
  } catch (e) {
    if (!(e instanceof Error && "code" in e && e.code === "ENOENT")) {
      throw new IoError(`cannot read the bootstrap token ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new IoError(
    `no bootstrap token at ${file}. The origin writes it at a start without KAKUNIN_ADMIN_KEY while tenant ` +
    "'default' has no admin key: pass the origin's data dir with --data-dir, or, if you already hold a key, kakunin init --api-key KEY",
  );
}

/**
 * The origin's root CA, saved with the configuration so `kakunin audit verify` has a pinned trust
 * anchor without --root (trust on first use: init talks to the operator's own origin). A failure
 * to fetch it does not fail init; verify then asks for --root.
 */
async function fetchRoot(s: Settings, apiKey: string): Promise<string | undefined> {
  const r = await call<{ data: { root: { certificate_pem: string } } }>("GET", { name: "origin", url: s.originUrl, bearer: apiKey }, "/v1/ca");
  return r.ok && typeof r.value.body.data?.root?.certificate_pem === "string" ? r.value.body.data.root.certificate_pem : undefined;
}

async function save(s: Settings, apiKey: string): Promise<void> {
  const root = await fetchRoot(s, apiKey);
  writeConfigFile(s.configPath, { origin_url: s.originUrl, edge_url: s.edgeUrl, api_key: apiKey, ...(root ? { root_ca_pem: root } : {}) });
}

async function checkKey(s: Settings, key: string, a: Parsed, io: Io): Promise<number> {
  const origin: Endpoint = { name: "origin", url: s.originUrl, bearer: key };
  const r = await call<{ data: Tenant }>("GET", origin, "/v1/tenant");
  if (!r.ok) return reportFailure(io, r.error);
  const t = r.value.body.data;
  await save(s, key);
  const result = { tenant_id: t.id, tenant: t.name, role: t.role, config: s.configPath, origin_url: s.originUrl, edge_url: s.edgeUrl };
  io.out(a.bool("json") ? json(result) : `API key accepted: tenant ${t.name} (${t.id}), role ${t.role}.\n${kv([["config", s.configPath], ["origin", s.originUrl], ["edge", s.edgeUrl]])}`);
  return EXIT.ok;
}

export const init: Command = {
  name: "init",
  synopsis,
  summary: "create the first admin key (or check one) and save the CLI configuration",
  help,
  spec: { strings: ["data-dir", "origin", "edge", "api-key"], booleans: ["json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const s = resolveSettings(a, help);
    // Only a key given now counts; one already in the config file does not skip the bootstrap.
    const key = a.str("api-key") ?? (process.env.KAKUNIN_API_KEY || undefined);
    if (key !== undefined) return checkKey(s, key, a, io);
    const token = await readBootstrapToken(a.str("data-dir") ?? (process.env.KAKUNIN_DATA_DIR || join(".", ".kakunin")));
    const r = await call<{ data: Initialized }>("POST", { name: "origin", url: s.originUrl }, "/v1/init", { body: { bootstrap_token: token } });
    if (!r.ok) return reportFailure(io, r.error);
    const k = r.value.body.data;
    let saved: IoError | undefined;
    try {
      await save(s, k.api_key);
    } catch (e) {
      if (!(e instanceof IoError)) throw e;
      saved = e;
    }
    // The key exists only in this response: print it even when saving failed.
    const result = { ...k, config: saved ? null : s.configPath, origin_url: s.originUrl, edge_url: s.edgeUrl };
    if (a.bool("json")) io.out(json(result));
    else {
      io.out(`Initialized: tenant default (${k.tenant_id}), role ${k.role}.\n`);
      io.out(`Admin API key (shown once; keep it safe${saved ? "" : `; saved to ${s.configPath}`}):\n\n  ${k.api_key}\n\n`);
      io.out("Next: kakunin agents create --help\n");
    }
    if (!saved) return EXIT.ok;
    io.err(`kakunin: ${saved.message}\n`);
    return EXIT.usage;
  },
};
