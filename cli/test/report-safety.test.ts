/**
 * The HTML report is read by a person who trusts it more than a terminal. Four ways it said less,
 * or other, than the verifier: it left out the verifier's warnings (a back-dated event, an era the
 * chain cannot prove), it showed the agent's own claimed event times as fact, it printed whatever
 * `tree_head.signer_serial` a holder put there (an array passed verification), and it wrote the
 * bundle's file name unquoted into the command it tells the reader to run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin } from "./support/run.ts";

const NO_CONFIG = { KAKUNIN_CONFIG: join(tmpdir(), "kakunin-report-safety-no-config.json") };

describe("the evidence report says what the verifier says, and nothing a holder chose", () => {
  let o: TestOrigin;
  let dir = "";
  let rootFile = "";
  let bundleText = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-report-safety-"));
    o = await startTestOrigin("pglite");
    ({ rootFile } = await fetchRoot(o, dir));
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "backdating-bot" }) })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    // A high-risk event the agent dates 25 days back (the edge allows up to 30), received now.
    expect(
      (
        await postInternal(o, "/internal/v1/events", {
          events: [
            forwardedEvent(
              { agent, tenant, serial },
              {
                event_id: "back-1",
                timestamp: new Date(Date.now() - 25 * 86_400_000).toISOString(),
                type: "transaction",
                action: "payments.send",
                amount: 900,
                currency: "EUR",
                outcome: "success",
              },
              { score: 0.95, band: "high", reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "not granted" }] },
            ),
          ],
        })
      ).status,
    ).toBe(200);
    const res = await o.request("GET", `/v1/agents/${agent}/evidence`);
    bundleText = await res.text();
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the verifier's warnings are in the report, and event times are labelled the agent's claim beside the edge's receipt", async () => {
    const file = join(dir, "backdated.json");
    writeFileSync(file, bundleText);
    const v = await kakunin(NO_CONFIG, "audit", "verify", file, "--root", rootFile);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/warning: .*claims a timestamp outside/);
    const out = join(dir, "backdated.html");
    const r = await kakunin(NO_CONFIG, "audit", "report", file, "--root", rootFile, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/<li>warning: [^<]*claims a timestamp outside/);
    expect(html).toContain("Time (claimed by the agent)");
    expect(html).toMatch(/<th>Received<\/th>/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it("a signer_serial that is not the verified signer's serial fails verification (an array used to pass and be printed)", async () => {
    const doc = JSON.parse(bundleText) as { data: { tree_head: { signer_serial: unknown } } };
    doc.data.tree_head.signer_serial = ["0badc0de0badc0de"];
    const file = join(dir, "signer.json");
    writeFileSync(file, JSON.stringify(doc));
    const v = await kakunin(NO_CONFIG, "audit", "verify", file, "--root", rootFile);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/signer_serial \["0badc0de0badc0de"\] is not the signer certificate's serial/);
  });

  it("the command the report tells the reader to run names the bundle as one shell word", async () => {
    const file = join(dir, "evidence-$(touch PWNED).json");
    writeFileSync(file, bundleText);
    const out = join(dir, "named.html");
    const r = await kakunin(NO_CONFIG, "audit", "report", file, "--root", rootFile, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toContain("<code>kakunin audit verify &#39;evidence-$(touch PWNED).json&#39; --root root.pem</code>");
    // A name that starts like an option is made a path.
    const dashed = join(dir, "--root=evil.pem");
    writeFileSync(dashed, bundleText);
    const r2 = await kakunin(NO_CONFIG, "audit", "report", "--root", rootFile, "--out", out, "--", dashed);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("<code>kakunin audit verify ./--root=evil.pem --root root.pem</code>");
  });
});
