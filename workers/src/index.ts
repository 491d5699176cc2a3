import { Hono } from "hono";
import type { EdgeEnv } from "./app-env.ts";
import { edgeProblem } from "./http/problems.ts";
import * as internalPublish from "./routes/internal_publish.ts";
import * as ca from "./routes/v1_ca.ts";
import * as ocsp from "./routes/v1_ocsp.ts";
import * as did from "./routes/v1_did.ts";
import * as verify from "./routes/v1_verify.ts";
import * as events from "./routes/v1_events.ts";
import * as risk from "./routes/v1_agents_risk.ts";
import * as benchNoop from "./routes/bench_noop.ts";

export { AgentMonitor } from "./monitor/agent-monitor.ts";
export { StatusLedger } from "./ledger/status-ledger.ts";

const app = new Hono<EdgeEnv>();

app.get("/healthz", (c) => c.json({ status: "ok" }));
for (const r of [verify, events, risk, ca, did, ocsp, internalPublish, benchNoop]) r.register(app);

app.notFound((c) => edgeProblem(c, "not-found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));
app.onError((e, c) => {
  console.error("[edge] unhandled error", e);
  return edgeProblem(c, "internal-error", "An unexpected error occurred.");
});

export default app;
