declare namespace Cloudflare {
  interface Env {
    KAKUNIN_ENV: string;
    ORIGIN_URL: string;
    CERT_STATUS: KVNamespace;
    AGENT_MONITOR: DurableObjectNamespace<import("./monitor/agent-monitor").AgentMonitor>;
  }
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "AgentMonitor";
  }
}
interface Env extends Cloudflare.Env {}
