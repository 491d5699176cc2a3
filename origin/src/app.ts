import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env.ts";
import { closeConnectionsWhileDraining } from "./http/drain.ts";
import { baseHeaders, limitBody, refuseMalformedQuery, refuseMalformedUnicode, requireJsonBody } from "./http/middleware.ts";
import { onError, onNotFound, validationProblem } from "./http/problems.ts";
import { ApiError } from "./http/api-error.ts";
import type { Services } from "./services.ts";
import { registerRoutes } from "./routes/index.ts";
import { registerInternal } from "./internal/routes.ts";
import { observeRequests } from "./observability/http.ts";
import { registerConsole } from "./console/index.ts";

/** Builds the origin's Hono app around already-constructed services (tests build their own). */
export function createApp(services: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      // A malformed id in the path names no record: 404, exactly like a missing one.
      if (result.target === "param") throw new ApiError("not-found", `No such resource: ${new URL(c.req.url).pathname}`);
      return validationProblem(c, result.error.issues, result.target);
    },
  });
  app.onError(onError);
  app.notFound(onNotFound(app.router));
  app.use("*", observeRequests(services.logger, services.metrics));
  app.use("*", baseHeaders);
  app.use("*", closeConnectionsWhileDraining);
  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use("*", limitBody(services.config.KAKUNIN_MAX_BODY_BYTES));
  app.use("*", refuseMalformedQuery);
  // Before the JSON-only middleware: the console's forms post application/x-www-form-urlencoded.
  registerConsole(app);
  app.use("*", requireJsonBody);
  app.use("*", refuseMalformedUnicode);
  // A committed change wakes the publisher, so a revocation reaches the edge in milliseconds
  // instead of at the next poll.
  app.use("*", async (c, next) => {
    await next();
    if (c.req.method !== "GET" && c.res.status < 400) {
      services.publisher?.kick();
      services.webhooks?.kick();
    }
  });
  registerRoutes(app);
  registerInternal(app);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: { title: "Kakunin origin API", version: "1.0.0" } });
  return app;
}
