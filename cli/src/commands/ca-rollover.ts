/** `kakunin ca rollover`: POST /v1/tenant/ca/rollover. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "ca rollover [--json]";

const help = helpText(synopsis, `
Rolls the tenant's issuing CA over to a new key (POST /v1/tenant/ca/rollover; admin role). New
certificates come from the new CA at once; certificates the old CA issued stay valid, and the old
CA keeps signing their CRL and OCSP responses until the last one expires (docs/ca-lifecycle.md).
A rollover racing another is refused (409, exit 3).`, [ORIGIN_HELP, JSON_HELP]);

interface Authority { serial_number: string; subject: string; not_before: string; not_after: string; certificate_pem: string }

export const caRollover: Command = {
  name: "ca rollover",
  synopsis,
  summary: "roll the issuing CA over to a new key",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await call<{ data: { current: Authority; previous: Authority } }>("POST", originEndpoint(resolveSettings(a, help)), "/v1/tenant/ca/rollover", {});
    if (!r.ok) return reportFailure(io, r.error);
    const { current, previous } = r.value.body.data;
    io.out(a.bool("json") ? json(r.value.body.data) : kv([
      ["issuing CA", current.subject], ["serial", current.serial_number], ["valid until", current.not_after],
      ["retired", `${previous.subject} (serial ${previous.serial_number}, keeps CRL/OCSP for its certificates)`],
    ]));
    return EXIT.ok;
  },
};
