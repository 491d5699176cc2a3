import { app } from "./app.ts";

export { AgentMonitor } from "./monitor/agent-monitor.ts";
export { StatusLedger } from "./ledger/status-ledger.ts";

export default app;
