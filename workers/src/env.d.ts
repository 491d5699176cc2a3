declare namespace Cloudflare {
  interface Env {
    KAKUNIN_ENV: string;
    ORIGIN_URL: string;
    /** Shared HMAC secret for origin ⇄ edge internal calls (wrangler secret / --var in dev). */
    KAKUNIN_EDGE_SECRET?: string;
    /** "1" enables POST /bench/noop (bench/ingest baseline); unset in every deployment. */
    KAKUNIN_BENCH_NOOP?: string;
    CERT_STATUS: KVNamespace;
    AGENT_MONITOR: DurableObjectNamespace<import("./monitor/agent-monitor").AgentMonitor>;
    STATUS_LEDGER: DurableObjectNamespace<import("./ledger/status-ledger").StatusLedger>;
    /** Per-client budget of `?consistency=strong` verify reads (wrangler.toml [[ratelimits]]). */
    STRONG_READS?: RateLimit;
  }
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "AgentMonitor" | "StatusLedger";
  }
}
interface Env extends Cloudflare.Env {}
