import type { CertStatusRecord } from "@kakunin/shared";
import type { HttpClient, HttpResponse } from "../common/http-client.ts";
import { readOcspStatus } from "./ocsp-status.ts";
import { randomSerial } from "./records.ts";

/** One request against one target; throws when the answer is not exactly what was loaded. */
export type Op = (client: HttpClient) => () => Promise<void>;

function pick<T>(items: readonly T[]): T {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error("nothing to pick from");
  return item;
}

function checkVerify(r: HttpResponse, serial: string, want: CertStatusRecord["status"]): void {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`);
  const data = (JSON.parse(r.body.toString()) as { data?: { serial_number?: string; status?: string } }).data;
  if (data?.serial_number !== serial || data.status !== want) throw new Error(`${serial}: got ${data?.serial_number} ${data?.status}, loaded ${want}`);
}

/** GET /v1/verify/:serial for random loaded serials, on the edge or on the Map baseline. */
export function verifyOp(baseUrl: string, records: readonly CertStatusRecord[], query = ""): Op {
  return (client) => async () => {
    const rec = pick(records);
    checkVerify(await client.get(`${baseUrl}/v1/verify/${rec.serial_number}${query}`), rec.serial_number, rec.status);
  };
}

/** A serial that was never loaded: one KV read (a miss), no risk read, a 404 problem body. */
export function unknownSerialOp(baseUrl: string): Op {
  return (client) => async () => {
    const r = await client.get(`${baseUrl}/v1/verify/${randomSerial()}`);
    if (r.status !== 404) throw new Error(`HTTP ${r.status}, expected 404`);
  };
}

/** A route that touches no storage at all. */
export function healthzOp(baseUrl: string): Op {
  return (client) => async () => {
    const r = await client.get(`${baseUrl}/healthz`);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  };
}

/** POSTed OCSP requests for random leaves; each answer is parsed and its serial and status checked. */
export function ocspOp(url: string, leaves: readonly { serial: string; status: "good" | "revoked" }[], requests: readonly Uint8Array[]): Op {
  return (client) => async () => {
    const i = Math.floor(Math.random() * leaves.length);
    const leaf = leaves[i];
    const req = requests[i];
    if (!leaf || !req) throw new Error("no such leaf");
    const r = await client.post(url, req, "application/ocsp-request");
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const got = readOcspStatus(r.body);
    if (got.serial !== leaf.serial || got.status !== leaf.status) throw new Error(`${leaf.serial}: got ${got.serial} ${got.status}, index says ${leaf.status}`);
  };
}
