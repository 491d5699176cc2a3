import { Hono } from "hono";
import { problem, problemResponse } from "@kakunin/shared";

export { AgentMonitor } from "./monitor/agent-monitor.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ status: "ok" }));

app.notFound((c) => problemResponse({ ...problem("not-found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`), instance: new URL(c.req.url).pathname }));
app.onError((e, c) => {
  console.error("[edge] unhandled error", e);
  return problemResponse({ ...problem("internal-error", "An unexpected error occurred."), instance: new URL(c.req.url).pathname });
});

export default app;
