// A free TCP port on 127.0.0.1 for a service a test (or `pnpm demo`) starts as a child process.
// Imported as freePort(), or run as a script that prints one (scripts/test.sh, fixtures).
//
// A port is probed free here and bound by the child later, so something else can take it in
// between. Asking the OS for port 0 picks from its ephemeral range (Linux: 32768–60999), the same
// range every bind(0) and outgoing connection of every other process draws from, and with test
// files running two at a time a demo's origin port was taken by another file's wrangler, whose
// /healthz then answered the demo's health check (CI, 2026-12-06). Ports come from below that range
// instead, at random, each probed by binding it; parallel vitest workers (VITEST_POOL_ID) draw from
// disjoint slices, and one process never hands out the same port twice.
import { createServer } from "node:net";
import { pathToFileURL } from "node:url";

const LOW = 20_000;
const HIGH = 32_768;
const SLICES = 16;
const given = new Set();

/** Whether `port` can be bound on 127.0.0.1 now. */
function canBind(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** @returns {Promise<number>} */
export async function freePort() {
  const pool = Number(process.env.VITEST_POOL_ID ?? 0);
  const width = Math.floor((HIGH - LOW) / SLICES);
  const [base, span] = pool > 0 ? [LOW + ((pool - 1) % SLICES) * width, width] : [LOW, HIGH - LOW];
  for (let i = 0; i < 1000; i++) {
    const port = base + Math.floor(Math.random() * span);
    if (given.has(port)) continue;
    given.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${base}–${base + span - 1}`);
}

// As a script: `node scripts/free-port.mjs [N]` prints N distinct free ports (default 1), space-separated.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 1);
  const ports = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  process.stdout.write(ports.join(" "));
}
