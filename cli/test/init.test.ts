import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Proc } from "../../test/support/system.ts";
import { kakunin, originWithoutAdminKey, parsed } from "./support/run.ts";

/** `kakunin init` against a real origin that was started without KAKUNIN_ADMIN_KEY. */
describe("kakunin init", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-init-"));
  const dataDir = join(dir, "origin");
  let edgeUrl = "";
  let origin: Proc;
  let adminKey = "";
  const config = (name: string) => join(dir, name, "config.json");

  beforeAll(async () => {
    origin = await originWithoutAdminKey(dataDir);
    edgeUrl = `http://127.0.0.1:${await freePort()}`;
  }, 120_000);
  afterAll(async () => {
    await origin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the origin's first start asks for `kakunin init` and writes the token file with mode 0600", () => {
    expect(origin.log()).toContain(`run \`kakunin init\` to create the first admin key (one-time bootstrap token in ${join(dataDir, "init.token")}; from another directory: kakunin init --data-dir ${dataDir})`);
    expect(statSync(join(dataDir, "init.token")).mode & 0o777).toBe(0o600);
  });

  it("without the token file it explains where the token comes from and calls nobody (exit 2)", async () => {
    const r = await kakunin({ KAKUNIN_CONFIG: config("none") }, "init", "--data-dir", join(dir, "elsewhere"), "--origin", origin.url);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no bootstrap token at ${join(dir, "elsewhere", "init.token")}`);
    expect(existsSync(config("none"))).toBe(false);
  });

  it("the first init prints a working admin key once and saves origin, edge and key (mode 0600)", async () => {
    const r = await kakunin({ KAKUNIN_CONFIG: config("first"), KAKUNIN_DATA_DIR: dataDir }, "init", "--origin", origin.url, "--edge", edgeUrl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const key = /^ {2}(kk_\S+)$/m.exec(r.stdout)?.[1];
    expect(key).toBeDefined();
    adminKey = key!;
    expect(r.stdout).toContain(`saved to ${config("first")}`);
    // …and the origin's root CA, the trust anchor `kakunin audit verify` then uses without --root.
    const root = (await (await fetch(`${origin.url}/v1/ca`, { headers: { authorization: `Bearer ${adminKey}` } })).json() as { data: { root: { certificate_pem: string } } }).data.root.certificate_pem;
    expect(JSON.parse(readFileSync(config("first"), "utf8"))).toEqual({ origin_url: origin.url, edge_url: edgeUrl, api_key: adminKey, root_ca_pem: root });
    expect(statSync(config("first")).mode & 0o777).toBe(0o600);
    // The saved configuration is all the next command needs.
    const who = await fetch(`${origin.url}/v1/tenant`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(((await who.json()) as { data: { name: string; role: string } }).data).toMatchObject({ name: "default", role: "admin" });
    const list = await kakunin({ KAKUNIN_CONFIG: config("first") }, "agents", "list", "--json");
    expect(list.code, list.stderr).toBe(0);
    expect(parsed<{ data: unknown[] }>(list).data).toEqual([]);
  });

  it("a second init is refused: already initialized (409, exit 3), the config untouched", async () => {
    const before = readFileSync(config("first"), "utf8");
    const r = await kakunin({ KAKUNIN_CONFIG: config("first") }, "init", "--data-dir", dataDir, "--origin", origin.url, "--json");
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^kakunin: Already initialized \(409\): /);
    expect(readFileSync(config("first"), "utf8")).toBe(before);
  });

  it("init --api-key checks the key and saves it; a wrong key is refused (exit 3) and nothing is saved", async () => {
    const ok = await kakunin({ KAKUNIN_CONFIG: config("bykey"), KAKUNIN_ORIGIN_URL: origin.url }, "init", "--api-key", adminKey, "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(parsed<Record<string, unknown>>(ok)).toEqual({
      tenant_id: expect.any(String), tenant: "default", role: "admin", config: config("bykey"), origin_url: origin.url, edge_url: "http://127.0.0.1:8787",
    });
    expect(JSON.parse(readFileSync(config("bykey"), "utf8"))).toMatchObject({ origin_url: origin.url, api_key: adminKey });

    const bad = await kakunin({ KAKUNIN_CONFIG: config("badkey"), KAKUNIN_API_KEY: "kk_not-a-key" }, "init", "--origin", origin.url);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("Unauthorized (401): Unknown or revoked API key.");
    expect(existsSync(config("badkey"))).toBe(false);
  });

  it("init against an origin that is not there exits 4", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const r = await kakunin({ KAKUNIN_CONFIG: config("down") }, "init", "--data-dir", dataDir, "--origin", down);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`cannot reach the origin at ${down} (ECONNREFUSED)`);
    expect(existsSync(config("down"))).toBe(false);
  });
});
