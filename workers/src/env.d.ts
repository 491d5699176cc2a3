declare namespace Cloudflare {
  interface Env {
    KAKUNIN_ENV: string;
    ORIGIN_URL: string;
    /** Shared HMAC secret for origin ⇄ edge internal calls (wrangler secret / --var in dev). */
    KAKUNIN_EDGE_SECRET?: string;
    /** "1" enables POST /bench/noop (bench/ingest baseline); unset in every deployment. */
    KAKUNIN_BENCH_NOOP?: string;
    /** In-isolate verify cache lifetime in ms (default 200, capped at 1000, 0 = off); see verify/status-cache.ts. */
    KAKUNIN_VERIFY_CACHE_MS?: string;
    /** Number of StatusLedger shards (default 16); see ledger/client.ts before changing it on a live edge. */
    KAKUNIN_LEDGER_SHARDS?: string;
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
