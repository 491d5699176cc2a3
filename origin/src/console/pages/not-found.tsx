/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { Layout } from "../layout.tsx";

/** 404 as a page: another tenant's record looks exactly like a missing one. */
export function notFoundPage(c: Context<ConsoleEnv>, what: string): Response | Promise<Response> {
  c.status(404);
  return c.html(
    <Layout title="Not found" caller={c.var.caller} csrf={c.var.csrf}>
      <p>No such {what} in tenant {c.var.caller.tenantName}.</p>
      <p><a href="/console/agents">Back to the agents</a></p>
    </Layout>,
  );
}
