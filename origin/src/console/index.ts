import { Hono } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { registerAssets } from "./assets.ts";
import type { ConsoleEnv } from "./env.ts";
import { consoleHeaders, requireCsrf, requireSession, visibleControls } from "./http.ts";
import { registerAgent } from "./pages/agent.tsx";
import { registerAgents } from "./pages/agents.tsx";
import { registerReviews } from "./pages/reviews.tsx";
import { registerHealth } from "./pages/health.tsx";
import { registerKeys } from "./pages/keys.tsx";
import { registerAgentJson } from "./agent-json.ts";
import { registerSignIn } from "./sign-in.tsx";

/**
 * The admin console at /console: server-rendered pages over the same services the API uses,
 * behind a cookie session obtained with an API key. Not part of /openapi.json (it is HTML);
 * origin/test/console-roles.test.ts checks its roles instead of the role matrix.
 */
export function registerConsole(app: OpenAPIHono<AppEnv>): void {
  const ui = new Hono<ConsoleEnv>();
  ui.use("*", consoleHeaders);
  ui.use("*", visibleControls);
  registerAssets(ui);
  registerSignIn(ui);
  ui.use("*", requireSession);
  ui.use("*", requireCsrf);
  registerAgents(ui);
  registerAgentJson(ui);
  registerAgent(ui);
  registerReviews(ui);
  registerHealth(ui);
  registerKeys(ui);
  app.route("/console", ui);
}
