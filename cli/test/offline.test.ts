import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/system.ts";
import { kakunin } from "./support/run.ts";

const COMMANDS = [
  ["init"], ["agents", "create"], ["agents", "list"], ["agents", "get"], ["agents", "retire"], ["certify"], ["revoke"],
  ["tokens", "create"], ["events", "send"], ["risk"], ["verify"], ["audit", "export"], ["audit", "verify"], ["ca", "rollover"],
  ["ca", "csr"], ["ca", "import"], ["ca", "root-crl"],
];
const GROUPS = ["agents", "tokens", "events", "audit", "ca"];

/** What the CLI decides without any server: help, usage errors, configuration, unreachable APIs. */
describe("kakunin without a server", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-offline-"));
  const env = { KAKUNIN_CONFIG: join(dir, "config.json") };
  let closed = "";
  beforeAll(async () => {
    closed = `http://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--help and -h on every command and group print usage on stdout, exit 0", async () => {
    // [arguments, how stdout must start]
    const runs: [string[], string][] = [
      ...COMMANDS.map((c): [string[], string] => [[...c, "--help"], `Usage: kakunin ${c.join(" ")} `]),
      ...GROUPS.map((g): [string[], string] => [[g, "--help"], `Usage: kakunin ${g} <command>`]),
      [["agents", "-h"], "Usage: kakunin agents <command>"], [["certify", "-h"], "Usage: kakunin certify <agent-id>"],
      // Help wins over everything else on the line, even arguments that would be errors.
      [["agents", "create", "--name", "x", "--help"], "Usage: kakunin agents create "], [["verify", "--frob", "-h"], "Usage: kakunin verify <serial>"],
      [["-h"], "Usage: kakunin <command>"], [["help"], "Usage: kakunin <command>"], [["--help"], "Usage: kakunin <command>"],
    ];
    const results = await Promise.all(runs.map(([args]) => kakunin(env, ...args)));
    results.forEach((r, i) => {
      const [args, start] = runs[i]!;
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.stdout.startsWith(start), `${args.join(" ")}:\n${r.stdout}`).toBe(true);
    });
    // The top-level help documents the exit codes scripts rely on.
    expect(results.at(-1)!.stdout).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 {2}a negative answer.*\n {2}2 {2}usage.*\n {2}3 {2}the API refused.*\n {2}4 {2}the API is unreachable/);
  });

  it("unknown commands, unknown or incomplete options and missing arguments exit 2 with a one-line reason", async () => {
    const cases: [string[], string][] = [
      [[], "kakunin: no command given"],
      [["frob"], "kakunin: unknown command: frob"],
      [["audit"], "kakunin: audit: which command?"],
      [["ca", "--json"], "kakunin: unknown command: ca --json"],
      [["agents", "delete", "x"], "kakunin: unknown command: agents delete"],
      [["agents", "list", "--frob"], "kakunin: unknown option --frob"],
      [["agents", "list", "-x"], "kakunin: unknown option -x"],
      [["agents", "get"], "kakunin: missing <agent-id>"],
      [["agents", "get", "a", "b"], "kakunin: unexpected argument b"],
      [["agents", "create", "--name", "n", "--model-name", "m", "--model-version", "1", "--model-hash", "sha256:00", "--owner-name", "o"], "kakunin: missing --owner-email"],
      [["agents", "create"], "kakunin: missing --name, --model-name, --model-version, --model-hash or --model-file, --owner-name, --owner-email"],
      [["revoke", "cert-id"], "kakunin: missing --reason"],
      [["revoke", "cert-id", "--reason"], "kakunin: --reason needs a value"],
      [["revoke", "cert-id", "--reason", "x", "--reason-code", "oops"], "kakunin: --reason-code must be one of unspecified, keyCompromise"],
      [["revoke", "cert-id", "--reason", "x", "--reason-code", "certificateHold"], "kakunin: --reason-code certificateHold is not offered: revocation is final"],
      [["verify", "abc", "--strong=yes"], "kakunin: --strong takes no value"],
      [["tokens", "create", "id", "--ttl", "soon"], "kakunin: --ttl soon is not a duration"],
      [["events", "send", "f.jsonl", "--batch", "1001"], "kakunin: --batch must be 1-1000, got 1001"],
      [["events", "send", "f.jsonl", "--token", "t", "--agent", "a"], "kakunin: give --token or --agent, not both"],
      [["agents", "list", "--all", "--cursor", "c"], "kakunin: --all starts at the first page; drop --cursor"],
      [["agents", "list", "--limit", "abc"], "kakunin: --limit must be 1-200, got abc"],
      [["agents", "list", "--limit", "0", "--origin", "http://127.0.0.1:9", "--api-key", "k"], "kakunin: --limit must be 1-200, got 0"],
      [["reviews", "--limit", "201"], "kakunin: --limit must be 1-200, got 201"],
      [["review", "agent-id", "--clear", "--reason", "x", "--alerts", "two"], "kakunin: --alerts must be a whole number from 1 to 1000000, got two"],
      [["review", "agent-id", "--clear", "--reason", "x", "--alerts", "0"], "kakunin: --alerts must be a whole number from 1 to 1000000, got 0"],
      // Above the API's own cap: a usage error (exit 2), not the API's 422 (exit 3).
      [["review", "agent-id", "--clear", "--reason", "x", "--alerts", "2000000"], "kakunin: --alerts must be a whole number from 1 to 1000000, got 2000000"],
      [["agents", "list", "--origin", "not a url", "--api-key", "k"], "kakunin: the origin URL is not a URL: not a url"],
    ];
    const results = await Promise.all(cases.map(([args]) => kakunin(env, ...args)));
    results.forEach((r, i) => {
      const [args, reason] = cases[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(r.stderr.split("\n")[0], args.join(" ")).toContain(reason);
      expect(r.stderr, args.join(" ")).toContain("Usage: kakunin");
    });
  });

  it("local file and configuration problems exit 2 without usage noise", async () => {
    writeFileSync(join(dir, "broken.json"), "{not json");
    const cases: [Record<string, string>, string[], RegExp][] = [
      [env, ["events", "send", join(dir, "missing.jsonl"), "--token", "t"], /^kakunin: cannot read .*missing\.jsonl/],
      [env, ["agents", "list"], /^kakunin: no API key: pass --api-key, set KAKUNIN_API_KEY, or run `kakunin init`/],
      [{ KAKUNIN_CONFIG: join(dir, "broken.json") }, ["agents", "list"], /^kakunin: config file .*broken\.json is not JSON/],
      [env, ["agents", "create", "--name", "n", "--model-name", "m", "--model-version", "1", "--model-file", join(dir, "nope.bin"), "--owner-name", "o", "--owner-email", "o@x.example", "--api-key", "k"], /^kakunin: cannot read model file/],
    ];
    for (const [e, args, msg] of cases) {
      const r = await kakunin(e, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(msg);
      expect(r.stderr, args.join(" ")).not.toContain("Usage:");
    }
  });

  it("an unreachable origin or edge exits 4, naming the URL it tried", async () => {
    const origin = await kakunin(env, "agents", "list", "--origin", closed, "--api-key", "k");
    expect(origin.code).toBe(4);
    expect(origin.stderr).toBe(`kakunin: cannot reach the origin at ${closed} (ECONNREFUSED); is it running? (--origin / KAKUNIN_ORIGIN_URL)\n`);
    // A group with a list command, alone or with options, is that list (`kakunin webhooks`, as the issue names it).
    for (const args of [["webhooks"], ["agents", "--origin", closed]]) {
      const r = await kakunin({ ...env, KAKUNIN_ORIGIN_URL: closed, KAKUNIN_API_KEY: "k" }, ...args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 4, stderr: origin.stderr });
    }
    const edge = await kakunin(env, "verify", "0a1b", "--edge", closed);
    expect(edge.code).toBe(4);
    expect(edge.stderr).toContain(`cannot reach the edge at ${closed} (ECONNREFUSED)`);
  });

  it("audit export names --root in its hint only when no root is pinned (README: root pinned by init, or --root)", async () => {
    // A stand-in origin: the evidence route answers a (minimal) bundle, as the real one streams it.
    const server = createServer((req, res) => {
      res.writeHead(req.url?.startsWith("/v1/agents/a1/evidence") ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { format: "kakunin-evidence/3", entries: [] } }));
    });
    await new Promise<void>((up) => server.listen(0, "127.0.0.1", up));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const hint = async (cfg: object) => {
        const file = join(dir, `hint-${Object.keys(cfg).length}.json`);
        writeFileSync(file, JSON.stringify({ origin_url: origin, api_key: "k", ...cfg }));
        const r = await kakunin({ KAKUNIN_CONFIG: file }, "audit", "export", "a1", "--out", join(dir, "hint-bundle.json"));
        expect(r.code, r.stderr).toBe(0);
        return /check it offline: (.*)$/m.exec(r.stdout)?.[1];
      };
      const out = join(dir, "hint-bundle.json");
      expect(await hint({})).toBe(`kakunin audit verify ${out} --root root.pem`);
      // After `kakunin init` the root is in the config file: the hint is the command that works as is.
      expect(await hint({ root_ca_pem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n" })).toBe(`kakunin audit verify ${out}`);
    } finally {
      server.close();
    }
  });

  it("configuration precedence: flag over environment over config file over default", async () => {
    const url = async () => `http://127.0.0.1:${await freePort()}`;
    const [a, b, c] = [await url(), await url(), await url()];
    const cfg = join(dir, "precedence.json");
    writeFileSync(cfg, JSON.stringify({ origin_url: a, api_key: "from-file" }));
    const tried = async (e: Record<string, string>, ...flags: string[]) => {
      const r = await kakunin({ KAKUNIN_CONFIG: cfg, ...e }, "agents", "list", ...flags);
      return /cannot reach the origin at (\S+) /.exec(r.stderr)?.[1];
    };
    expect(await tried({})).toBe(a);
    expect(await tried({ KAKUNIN_ORIGIN_URL: b })).toBe(b);
    expect(await tried({ KAKUNIN_ORIGIN_URL: b }, "--origin", c)).toBe(c);
    // XDG_CONFIG_HOME is used when KAKUNIN_CONFIG is not set.
    const xdg = join(dir, "xdg");
    const viaXdg = await kakunin({ XDG_CONFIG_HOME: xdg }, "agents", "list");
    expect(viaXdg.stderr).toContain(join(xdg, "kakunin", "config.json"));
  });
});
