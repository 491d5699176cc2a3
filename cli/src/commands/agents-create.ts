/** `kakunin agents create`: POST /v1/agents from flags and/or a JSON file. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import { renderAgent, type Agent } from "../agent-view.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, IoError, UsageError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "agents create --name N --model-name M --model-version V (--model-hash H | --model-file F) --owner-name O --owner-email E [--scope S]... [--file agent.json] [--json]";

const help = helpText(synopsis, `
Registers an agent (POST /v1/agents) and prints it. The body can come from --file (the API's JSON:
{name, model:{name,version,hash}, owner:{name,email}, scopes}); flags override its fields.`, [
  "  --name N               the agent's display name",
  "  --model-name M         model it runs, e.g. gpt-4o",
  "  --model-version V      model version, e.g. 2024-08-06",
  "  --model-hash H         sha256:<64 hex> of the weights, prompt and config the agent runs",
  "  --model-file F         compute --model-hash from this file instead",
  "  --owner-name O         the accountable human",
  "  --owner-email E",
  "  --scope S              a permission the agent is granted (repeat): orders.place, orders.*, *",
  "  --file agent.json      the request body as JSON",
  ORIGIN_HELP, JSON_HELP,
]);

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    throw new IoError(`cannot read model file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return `sha256:${h.digest("hex")}`;
}

type Body = Record<string, unknown> & { model?: Record<string, unknown>; owner?: Record<string, unknown> };

async function fromFile(path: string): Promise<Body> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new IoError(`cannot read agent file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new IoError(`${path} must hold a JSON object`);
  const body = doc as Body;
  for (const k of ["model", "owner"] as const) {
    if (body[k] !== undefined && (typeof body[k] !== "object" || body[k] === null)) throw new IoError(`${path}: ${k} must be an object`);
  }
  return body;
}

/** The request body; a missing required field is a usage error naming its flag. */
async function buildBody(a: Parsed): Promise<Body> {
  const body: Body = a.str("file") === undefined ? {} : await fromFile(a.str("file")!);
  if (a.str("model-hash") !== undefined && a.str("model-file") !== undefined) throw new UsageError("give --model-hash or --model-file, not both", help);
  const modelHash = a.str("model-file") === undefined ? a.str("model-hash") : await sha256File(a.str("model-file")!);
  const set = (obj: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) obj[key] = v;
  };
  const model = { ...body.model };
  const owner = { ...body.owner };
  set(body, "name", a.str("name"));
  set(model, "name", a.str("model-name"));
  set(model, "version", a.str("model-version"));
  set(model, "hash", modelHash);
  set(owner, "name", a.str("owner-name"));
  set(owner, "email", a.str("owner-email"));
  if (a.list("scope").length) body.scopes = a.list("scope");
  body.model = model;
  body.owner = owner;
  const missing = [
    [body.name, "--name"], [model.name, "--model-name"], [model.version, "--model-version"], [model.hash, "--model-hash or --model-file"],
    [owner.name, "--owner-name"], [owner.email, "--owner-email"],
  ].filter(([v]) => v === undefined).map(([, flag]) => flag);
  if (missing.length) throw new UsageError(`missing ${missing.join(", ")}`, help);
  return body;
}

export const agentsCreate: Command = {
  name: "agents create",
  synopsis,
  summary: "register an agent",
  help,
  spec: {
    strings: ["name", "model-name", "model-version", "model-hash", "model-file", "owner-name", "owner-email", "file", "origin", "api-key"],
    lists: ["scope"],
    booleans: ["json"],
    positionals: [],
  },
  async run(a: Parsed, io: Io): Promise<number> {
    const body = await buildBody(a);
    const r = await call<{ data: Agent }>("POST", originEndpoint(resolveSettings(a, help)), "/v1/agents", { body });
    if (!r.ok) return reportFailure(io, r.error);
    io.out(a.bool("json") ? json(r.value.body.data) : renderAgent(r.value.body.data));
    return EXIT.ok;
  },
};
