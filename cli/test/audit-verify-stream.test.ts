/**
 * Issue 12 §4 / issue 16 goal 6: `kakunin audit verify` reads the bundle as a stream. The streaming
 * reader must give the same verdict as the whole-document path whatever the chunking, and a
 * change at any position of the proven part of a streamed bundle (every entry, the signed tree
 * head) must be detected: verification fails, or the file is refused as not being JSON.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAgentEvents } from "../../origin/test/audit-seed.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { BundleSyntaxError, verifyBundle, verifyStream, type VerifyReport } from "../src/verify/index.ts";
import { unwrap } from "../src/verify/shape.ts";
import { CLI, fetchRoot } from "./support/run.ts";

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** The verdict on `text` streamed in chunks of `size`; a syntax error counts as refused. */
async function verdict(text: string, size: number, rootPem: string): Promise<{ ok: boolean; report?: VerifyReport }> {
  try {
    const report = await verifyStream(chunked(text, size), { rootPem });
    return { ok: report.ok, report };
  } catch (e) {
    if (e instanceof BundleSyntaxError) return { ok: false };
    throw e;
  }
}

/** A different character of the same kind, so most edits keep the JSON well-formed. */
function mutate(c: string): string {
  const rot = (set: string) => set[(set.indexOf(c) + 1) % set.length]!;
  if ("0123456789".includes(c)) return rot("0123456789");
  if ("abcdef".includes(c)) return rot("abcdef");
  if (/[a-z]/.test(c)) return rot("abcdefghijklmnopqrstuvwxyz");
  if (/[A-Z]/.test(c)) return rot("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  return c === "x" ? "y" : "x";
}

describe.each(["kakunin-evidence/3", "kakunin-evidence/2"])("kakunin audit verify streams the bundle (%s)", (format) => {
  let o: TestOrigin;
  let dir = "";
  let text = "";
  let rootPem = "";
  let rootFile = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-verify-stream-"));
    o = await startTestOrigin("pglite");
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    await seedAgentEvents(o.services.db, tenantId, agent, serial, 40);
    const res = await o.request("GET", `/v1/agents/${agent}/evidence?format=${format}`);
    expect(res.status).toBe(200);
    text = await res.text();
    ({ rootPem, rootFile } = await fetchRoot(o, dir));
  }, 300_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the whole-document verdict for any chunk size, and the CLI streams the file", async () => {
    const whole = await verifyBundle(JSON.parse(text), { rootPem });
    expect(whole.ok, whole.summary).toBe(true);
    expect(whole.counts.entries).toBeGreaterThan(40);
    for (const size of [1, 7, 64, 4096, text.length]) {
      const r = await verdict(text, size, rootPem);
      expect(r.report, `chunks of ${size}`).toEqual(whole);
    }
    const file = join(dir, "bundle.json");
    writeFileSync(file, text);
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [CLI, "audit", "verify", file, "--root", rootFile], { cwd: join(import.meta.dirname, "..") }, (err, stdout) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout }),
      );
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^VERIFIED: /m);
  }, 120_000);

  it("a reader that closes early (`| head`) does not crash the CLI: the verdict is still its exit code", async () => {
    const file = join(dir, "bundle-pipe.json");
    writeFileSync(file, text);
    const child = spawn(process.execPath, [CLI, "audit", "verify", file, "--root", rootFile], {
      cwd: join(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Close our end before the CLI writes anything: every write it makes meets EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toMatch(/EPIPE|internal error|Error:/);
    expect(code).toBe(0);
  }, 120_000);

  it("a changed character anywhere in the entries or the signed tree head is detected", async () => {
    const entries = text.indexOf('"entries":[');
    const end = text.lastIndexOf('],"archive":');
    expect(entries).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(entries);
    const head = text.indexOf('"tree_head":{');
    const signed = ["tenant_id", "tree_size", "root_hash", "timestamp", "signature"].map((k) => {
      const at = text.indexOf(`"${k}":`, head);
      return at + k.length + 4;
    });
    // Every entry's first and last characters, and a stride through everything in between.
    const positions = new Set<number>(signed);
    for (let p = entries + '"entries":['.length; p < end; p += 97) positions.add(p);
    // v2 entries open with {"index":…} and end with their audit path; v3 entries are the canonical text ({"actor":…}) and the proof strings between them.
    const open = format === "kakunin-evidence/2" ? '{"index":' : '{"actor":';
    for (let p = text.indexOf(open, entries); p > 0 && p < end; p = text.indexOf(open, p + 1)) {
      positions.add(p + 10);
      positions.add(format === "kakunin-evidence/2" ? text.indexOf("]}", p) - 1 : text.indexOf(',"v":', p) + 5);
    }
    for (let p = text.indexOf(',"', entries); p > 0 && p < end && format !== "kakunin-evidence/2"; p = text.indexOf(',"', p + 1)) {
      if (text[p - 1] === "}") positions.add(p + 3);
    }
    expect(positions.size).toBeGreaterThan(150);
    const undetected: string[] = [];
    for (const p of positions) {
      const changed = text.slice(0, p) + mutate(text[p]!) + text.slice(p + 1);
      const r = await verdict(changed, 1 + (p % 5000), rootPem);
      if (r.ok) undetected.push(`${p}: …${text.slice(Math.max(0, p - 30), p)}[${text[p]}]${text.slice(p + 1, p + 30)}…`);
    }
    expect(undetected).toEqual([]);
  }, 600_000);

  it("a duplicated member or trailing text is refused, not resolved one way or the other", async () => {
    const dup = text.replace('"entries":[', '"window":{"from":null,"to":null},"entries":[');
    expect((await verdict(dup, 100, rootPem)).ok).toBe(false);
    expect((await verdict(`${text} {}`, 100, rootPem)).ok).toBe(false);
    // A second bundle after the genuine one, as a second "data" or as the envelope's own members:
    // JSON.parse (and `audit report`) would read that one, so the document is refused whole.
    const inner = text.slice(text.indexOf("{", 1), text.lastIndexOf("}"));
    expect(text.startsWith('{"data":')).toBe(true);
    const forged = inner.replace(/"kind":"[a-z_.]+"/, '"kind":"forged"');
    for (const twice of [`{"data":${inner},"data":${forged}}`, `{"data":${inner},${forged.slice(1, -1)}}`, `{"data":${inner},"note":1}`]) {
      const r = await verdict(twice, 100, rootPem);
      expect(r.ok).toBe(false);
    }
    // The parsed-document readers agree: an object with more than `data` is not an envelope.
    const extra = JSON.parse(`{"data":${inner},"note":1}`) as unknown;
    expect(unwrap(extra)).toBe(extra);
    expect(unwrap(JSON.parse(text))).toEqual(JSON.parse(inner));
    const noEntries = text.slice(0, text.indexOf(',"entries":[')) + "}}";
    const r = await verdict(noEntries, 100, rootPem);
    expect(r.ok).toBe(false);
  }, 120_000);
});
