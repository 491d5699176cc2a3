import { randomBytes, randomUUID } from "node:crypto";
import { signInternal, type CertStatusRecord, type PublishAck } from "@kakunin/shared";
import { sleep } from "./stats.ts";

const PUBLISH_PATH = "/internal/v1/publish";
const DAY_MS = 86_400_000;

/**
 * 16 random bytes as 32 lowercase hex digits, first byte 0x10–0x7f: positive and without a
 * leading zero, so the DER INTEGER is always exactly these 16 bytes (the OCSP request template in
 * openssl-ca.ts relies on that).
 */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + ((b[0] ?? 0) % 0x70);
  return b.toString("hex");
}

/** A PEM-shaped blob about as long as a real agent certificate, so KV values have a realistic size. */
function dummyPem(): string {
  const b64 = randomBytes(1000).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** `count` distinct certificate status records, `revokedEvery`-th one revoked (100 → 1%). */
export function fakeRecords(count: number, revokedEvery: number): CertStatusRecord[] {
  const now = Date.now();
  const seen = new Set<string>();
  const out: CertStatusRecord[] = [];
  for (let i = 0; out.length < count; i++) {
    const serial = randomSerial();
    if (seen.has(serial)) continue;
    seen.add(serial);
    const revoked = out.length % revokedEvery === revokedEvery - 1;
    const agentId = randomUUID();
    out.push({
      kind: "cert",
      v: i + 1,
      serial_number: serial,
      certificate_id: randomUUID(),
      status: revoked ? "revoked" : "active",
      agent_id: agentId,
      agent_urn: `urn:kakunin:agent:${agentId}`,
      tenant_id: "00000000-0000-4000-8000-000000000000",
      agent_status: revoked ? "suspended" : "active",
      model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${randomBytes(32).toString("hex")}` },
      scopes: ["orders.*", "crm.lookup_customer"],
      not_before: new Date(now - DAY_MS).toISOString(),
      not_after: new Date(now + 30 * DAY_MS).toISOString(),
      revoked_at: revoked ? new Date(now).toISOString() : null,
      revocation_reason: revoked ? "bench: loaded as revoked" : null,
      revocation_code: revoked ? "keyCompromise" : null,
      certificate_pem: dummyPem(),
      ocsp_b64: null,
    });
  }
  return out;
}

/**
 * Delivers records the way the origin does: signed POST batches to the edge's publish route.
 * wrangler dev restarts the Worker when a watched source file changes (other people edit this
 * repository while it runs) and answers 503 to the request in flight; such a batch is re-signed
 * and re-sent. Records that already landed come back as `stale`, which is fine.
 */
export async function publishRecords(edgeUrl: string, secret: string, records: readonly CertStatusRecord[], batchSize: number, opts: { requireApplied?: boolean } = {}): Promise<{ retries: number }> {
  let retries = 0;
  for (let i = 0; i < records.length; i += batchSize) {
    const batch = records.slice(i, i + batchSize);
    const body = JSON.stringify({ records: batch });
    for (let attempt = 1; ; attempt++) {
      const headers = await signInternal(secret, "POST", PUBLISH_PATH, body);
      const res = await fetch(edgeUrl + PUBLISH_PATH, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body }).catch((e: unknown) => e as Error);
      const text = res instanceof Error ? res.message : await res.text();
      if (!(res instanceof Error) && res.status === 200) {
        const ack = (JSON.parse(text) as { data: PublishAck }).data;
        if (ack.applied + ack.stale !== batch.length || (opts.requireApplied && ack.applied !== batch.length)) throw new Error(`publish batch ${i / batchSize}: applied ${ack.applied} + stale ${ack.stale} of ${batch.length}`);
        break;
      }
      const status = res instanceof Error ? "network error" : `HTTP ${res.status}`;
      if (attempt >= 5 || (!(res instanceof Error) && res.status !== 503)) throw new Error(`publish batch ${i / batchSize}: ${status} ${text.slice(0, 300)}`);
      retries++;
      await sleep(500 * attempt);
    }
  }
  return { retries };
}
