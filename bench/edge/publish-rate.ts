import type { CertStatusRecord } from "@kakunin/shared";
import { cpuSince, type ProcCpu } from "../verify/edge-procs.ts";
import { publishRecords } from "../verify/records.ts";

export interface PublishRate {
  label: string;
  records: number;
  seconds: number;
  rps: number;
  /** CPU ms per record of the edge's workerd processes (proxy + runtime), NaN when not on Linux. */
  cpuMsPerRecord: number;
}

/**
 * Records per second from the signed publish POST to "applied and written to KV": the ledger answers
 * only after every record of the batch is in KV, which is what the origin's outbox waits for.
 */
export async function publishRate(
  label: string,
  edgeUrl: string,
  secret: string,
  records: readonly CertStatusRecord[],
  batch: number,
  watch: () => readonly ProcCpu[] = () => [],
): Promise<PublishRate> {
  const cpu = cpuSince(watch);
  const t0 = performance.now();
  await publishRecords(edgeUrl, secret, records, batch, { requireApplied: true });
  const seconds = (performance.now() - t0) / 1000;
  const used = [...cpu().seconds.values()].reduce((a, b) => a + b, 0);
  return {
    label,
    records: records.length,
    seconds,
    rps: records.length / seconds,
    cpuMsPerRecord: watch().length ? (used * 1000) / records.length : Number.NaN,
  };
}
