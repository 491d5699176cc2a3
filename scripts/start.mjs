// Runs the origin and the edge as one process group: output prefixed, both stopped together.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const dataDir = resolve(root, process.env.KAKUNIN_DATA_DIR ?? ".kakunin");
mkdirSync(dataDir, { recursive: true });
// The origin ⇄ edge secret: KAKUNIN_EDGE_SECRET, else <data dir>/edge.secret (the origin reads the
// same file). The edge gets it through an env file, not the command line, so `ps` never shows it.
const secretFile = join(dataDir, "edge.secret");
if (!process.env.KAKUNIN_EDGE_SECRET && !existsSync(secretFile)) {
  writeFileSync(secretFile, randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
}
const secret = process.env.KAKUNIN_EDGE_SECRET ?? readFileSync(secretFile, "utf8").trim();
const originPort = process.env.KAKUNIN_ORIGIN_PORT ?? "8788";
const edgePort = process.env.KAKUNIN_EDGE_PORT ?? "8787";
const edgeEnvFile = join(dataDir, "edge.env");
writeFileSync(edgeEnvFile, `KAKUNIN_EDGE_SECRET=${secret}\nORIGIN_URL=http://127.0.0.1:${originPort}\n`, { mode: 0o600 });
const env = {
  ...process.env, KAKUNIN_DATA_DIR: dataDir, KAKUNIN_EDGE_URL: `http://127.0.0.1:${edgePort}`,
  // Local use: webhooks may target a receiver on this machine (refused by default: SSRF).
  KAKUNIN_WEBHOOK_ALLOW_PRIVATE: process.env.KAKUNIN_WEBHOOK_ALLOW_PRIVATE ?? "1",
};

const procs = [
  { name: "origin", cmd: process.execPath, args: ["--import", "tsx", "src/main.ts"], cwd: join(root, "origin") },
  {
    name: "edge",
    cmd: join(root, "node_modules/.bin/wrangler"),
    args: ["dev", "--port", edgePort, "--ip", "127.0.0.1", "--persist-to", join(dataDir, "edge"), "--env-file", edgeEnvFile, "--log-level", "warn", "--show-interactive-dev-session=false"],
    cwd: root,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  },
];

const children = [];
let stopping = false;
function launch(p) {
  const child = spawn(p.cmd, p.args, { cwd: p.cwd, env: { ...env, ...p.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (chunk) => chunk.toString().split("\n").filter(Boolean).map((l) => `[${p.name}] ${l.replace(/^\[(origin|edge)\] /, "")}`).join("\n") + "\n";
  child.stdout.on("data", (c) => process.stdout.write(prefix(c)));
  child.stderr.on("data", (c) => process.stderr.write(prefix(c)));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[${p.name}] exited (${signal ?? code}); stopping`);
      stop(code ?? 1);
    }
  });
  children.push(child);
}

// The edge first, the origin once the edge answers /healthz: the origin then publishes the CA
// chains and CRLs it queued at start before it listens (bounded), so once both /healthz answer, the
// edge serves /v1/ca and /v1/crl. Started together, the origin's first publish found wrangler still
// starting and backed off, and both said ready while the edge answered those with 404.
const edge = procs.find((p) => p.name === "edge");
if (edge) launch(edge);
(edge ? edgeAnswers(`http://127.0.0.1:${edgePort}/healthz`) : Promise.resolve()).then(() => {
  for (const p of procs) if (p !== edge && !stopping) launch(p);
});

/** Resolves when `url` answers 200, or after 120 s (the origin then starts anyway and retries publishing). */
async function edgeAnswers(url) {
  const deadline = Date.now() + 120_000;
  while (!stopping && Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!stopping) console.error(`[edge] no answer on ${url} after 120 s; starting the origin anyway`);
}

function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) {
    try { process.kill(-c.pid, "SIGTERM"); } catch { /* already gone */ }
  }
  // Longer than the origin's own shutdown grace (12 s, or KAKUNIN_WEBHOOK_TIMEOUT_MS + 2 s): it
  // finishes the work under way (a webhook send, an upload) and records it, then exits by itself.
  // A SIGKILL at 5 s cut a webhook the receiver had acknowledged before it was written down.
  const graceMs = Math.max(12_000, Number(process.env.KAKUNIN_WEBHOOK_TIMEOUT_MS ?? 10_000) + 2000) + 3000;
  setTimeout(() => {
    for (const c of children) {
      try { process.kill(-c.pid, "SIGKILL"); } catch { /* already gone */ }
    }
    process.exit(code);
  }, graceMs).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on("exit", r))))).then(() => process.exit(code));
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
