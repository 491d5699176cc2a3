import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kakunin } from "./support/run.ts";

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/**
 * An agent suspended over risk (auto-revoked, or revoked by an admin's review) is certified again
 * only by an admin with `{"reason"}` (POST /v1/agents/:id/certify). After a review's `revoke` there
 * is no open decision left for `review --reinstate`, so without `certify --reason` the CLI had no
 * way to lift it. The origin's side (403 for an issuer, 422 without a reason, the audit entry) is
 * tested in origin/test/review-revoke-suspension.test.ts; here, what the CLI sends.
 */
describe("kakunin certify --reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-certify-reason-"));
  const seen: Seen[] = [];
  let server: Server;
  let config = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", contentType: req.headers["content-type"], body });
        res.writeHead(201, { "content-type": "application/json" });
        const cert = {
          id: "c1",
          agent_id: "a1",
          serial_number: "0a",
          certificate_pem: "",
          kms_key_arn: "local:key/x",
          status: "active",
          issued_at: "2026-12-07T00:00:00Z",
          expires_at: "2027-12-07T00:00:00Z",
        };
        res.end(JSON.stringify({ data: cert }));
      });
    });
    await new Promise<void>((up) => server.listen(0, "127.0.0.1", up));
    config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ origin_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, api_key: "k" }));
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the reason as the body; without --reason, no body as before", async () => {
    const lifted = await kakunin({ KAKUNIN_CONFIG: config }, "certify", "a1", "--reason", "false positive: month-end batch", "--json");
    expect(lifted.code, lifted.stderr).toBe(0);
    const plain = await kakunin({ KAKUNIN_CONFIG: config }, "certify", "a1", "--json");
    expect(plain.code, plain.stderr).toBe(0);
    expect(seen).toEqual([
      { method: "POST", url: "/v1/agents/a1/certify", contentType: "application/json", body: JSON.stringify({ reason: "false positive: month-end batch" }) },
      { method: "POST", url: "/v1/agents/a1/certify", contentType: undefined, body: "" },
    ]);
  });

  it("--help names it", async () => {
    const r = await kakunin({ KAKUNIN_CONFIG: config }, "certify", "--help");
    expect(r.stdout).toMatch(/--reason R +why the risk suspension is lifted/);
  });
});
