import type { CertStatusRecord } from "@kakunin/shared";
import { publishRecords } from "../verify/records.ts";

export interface PublishRate {
  label: string;
  records: number;
  seconds: number;
  rps: number;
}

/**
 * Records per second from the signed publish POST to "applied and written to KV": the ledger answers
 * only after every record of the batch is in KV, which is what the origin's outbox waits for.
 */
export async function publishRate(label: string, edgeUrl: string, secret: string, records: readonly CertStatusRecord[], batch: number): Promise<PublishRate> {
  const t0 = performance.now();
  await publishRecords(edgeUrl, secret, records, batch, { requireApplied: true });
  const seconds = (performance.now() - t0) / 1000;
  return { label, records: records.length, seconds, rps: records.length / seconds };
}
