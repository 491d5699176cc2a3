/**
 * Baseline (child process): a bare node:http server answering GET /v1/verify/:serial from an
 * in-memory Map. It does the same per-request work as the edge minus workerd and KV: parse the
 * stored JSON string, look up the agent's risk, run the edge's own `evaluate`, serialise the same
 * `{ data }` body. Usage: node --import tsx verify/map-server.ts <records.json>
 * Prints "listening <port>" once it accepts connections.
 */
import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { Band, CertStatusRecord } from "@kakunin/shared";
// The edge's verdict function itself, so both servers produce byte-for-byte the same shape.
import { evaluate } from "../../workers/src/verify/evaluate.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: map-server.ts <records.json>");
// Values are kept as JSON strings, as KV stores them, so each request pays the same JSON.parse.
const store = new Map<string, string>();
for (const r of JSON.parse(readFileSync(file, "utf8")) as CertStatusRecord[]) store.set(`cert:${r.serial_number}`, JSON.stringify(r));

const PREFIX = "/v1/verify/";
const CACHE = { active: "public, max-age=2", final: "public, max-age=300", none: "no-store" };

function send(res: ServerResponse, status: number, body: unknown, cache: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": cache, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const path = (req.url ?? "").split("?")[0] ?? "";
  if (req.method !== "GET" || !path.startsWith(PREFIX)) return send(res, 404, { title: "not found" }, CACHE.none);
  const serial = path.slice(PREFIX.length).replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(serial)) return send(res, 400, { title: "invalid serial" }, CACHE.none);
  const raw = store.get(`cert:${serial}`);
  if (!raw) return send(res, 404, { title: "not found" }, CACHE.none);
  const rec = JSON.parse(raw) as CertStatusRecord;
  // Same second lookup as the edge's readRisk; no agent has published risk, so it misses.
  const riskRaw = store.get(`risk:${rec.agent_id}`);
  const risk = riskRaw ? (JSON.parse(riskRaw) as { score: number; band: Band }) : { score: 0, band: "low" as const };
  const result = evaluate(rec, new Date(), { scopes: [] }, risk);
  send(res, 200, { data: result }, result.status === "active" ? CACHE.active : CACHE.final);
});

server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  console.log(`listening ${typeof a === "object" && a ? a.port : 0}`);
});
process.on("SIGTERM", () => process.exit(0));
