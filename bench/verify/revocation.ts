import type { HttpClient } from "../common/http-client.ts";
import { sleep } from "./stats.ts";

export interface IssuedCert {
  certId: string;
  serial: string;
}

export interface RevocationSample {
  /** t0 (just before the revoke POST) → first edge answer saying "revoked". */
  visibleMs: number;
  /** t0 → the origin's 200 to the revoke POST. */
  revokeMs: number;
}

async function originPost(originUrl: string, adminKey: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${adminKey}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(originUrl + path, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

function dataField(json: unknown, field: string): string {
  const data = typeof json === "object" && json !== null && "data" in json ? json.data : undefined;
  const v = typeof data === "object" && data !== null && field in data ? (data as Record<string, unknown>)[field] : undefined;
  if (typeof v !== "string") throw new Error(`response without data.${field}`);
  return v;
}

/** Registers and certifies agents through the origin API, `width` at a time, until `count` or `maxMs`. */
export async function issueCerts(originUrl: string, adminKey: string, count: number, width: number, maxMs: number): Promise<IssuedCert[]> {
  const out: IssuedCert[] = [];
  const deadline = performance.now() + maxMs;
  while (out.length < count && performance.now() < deadline) {
    const n = Math.min(width, count - out.length);
    const batch = await Promise.all(Array.from({ length: n }, async (_, k) => {
      const agent = await originPost(originUrl, adminKey, "/v1/agents", {
        name: `verify-bench-${out.length + k}`,
        model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${"cd".repeat(32)}` },
        owner: { name: "Bench Runner", email: "bench@example.test" },
        scopes: ["orders.*"],
      });
      const cert = await originPost(originUrl, adminKey, `/v1/agents/${dataField(agent, "id")}/certify`);
      return { certId: dataField(cert, "id"), serial: dataField(cert, "serial_number") };
    }));
    out.push(...batch);
  }
  return out;
}

async function edgeStatus(client: HttpClient, edgeUrl: string, serial: string): Promise<string | undefined> {
  const r = await client.get(`${edgeUrl}/v1/verify/${serial}`);
  if (r.status !== 200) return undefined;
  return (JSON.parse(r.body.toString()) as { data: { status: string } }).data.status;
}

/** Waits until every serial reads `active` at the edge (the origin publishes asynchronously). */
export async function waitAllActive(client: HttpClient, edgeUrl: string, serials: readonly string[], maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  for (const serial of serials) {
    while ((await edgeStatus(client, edgeUrl, serial)) !== "active") {
      if (performance.now() > deadline) throw new Error(`${serial} not active at the edge within ${maxMs} ms`);
      await sleep(20);
    }
  }
}

/**
 * One revocation at a time: t0, then the revoke POST and, concurrently, edge polls every ~5 ms
 * until one answers "revoked". Polling starts at t0 (not after the POST returns) because the origin
 * may publish before its own response reaches the client.
 */
export async function measureRevocations(
  client: HttpClient, originUrl: string, edgeUrl: string, adminKey: string, certs: readonly IssuedCert[], timeoutMs: number,
): Promise<{ samples: RevocationSample[]; timeouts: number }> {
  const samples: RevocationSample[] = [];
  let timeouts = 0;
  for (const cert of certs) {
    const t0 = performance.now();
    let revokeMs = Number.NaN;
    const revoke = originPost(originUrl, adminKey, `/v1/certificates/${cert.certId}/revoke`, { reason: "verify bench", reason_code: "keyCompromise" })
      .then(() => { revokeMs = performance.now() - t0; });
    let visibleMs: number | undefined;
    while (performance.now() - t0 < timeoutMs) {
      const tick = performance.now();
      if ((await edgeStatus(client, edgeUrl, cert.serial)) === "revoked") {
        visibleMs = performance.now() - t0;
        break;
      }
      await sleep(Math.max(0, 5 - (performance.now() - tick)));
    }
    await revoke;
    if (visibleMs === undefined) timeouts++;
    else samples.push({ visibleMs, revokeMs });
  }
  return { samples, timeouts };
}
