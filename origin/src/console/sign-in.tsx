/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { resolveApiKey } from "../auth/authenticate.ts";
import { CONSOLE_SESSION_TTL_S, closeConsoleSession, openConsoleSession, resolveConsoleSession } from "../lifecycle/console-session.ts";
import type { ConsoleEnv } from "./env.ts";
import { clearSessionCookie, consoleOrigin, forbidden, requireCsrf, requireSession, sameToken, sessionToken, setSessionCookie, signInToken, signInTokenCookie } from "./http.ts";
import { SignInPage } from "./pages/sign-in.tsx";

/** GET /console (the form, or on to the agents when signed in), POST /console/sign-in and /console/sign-out. */
export function registerSignIn(app: Hono<ConsoleEnv>): void {
  app.get("/", async (c) => {
    const s = c.var.services;
    const token = sessionToken(c);
    if (token && (await resolveConsoleSession(s.db, token, s.clock.now()))) return c.redirect("/console/agents", 303);
    return c.html(<SignInPage token={signInToken(c)} />);
  });

  app.post("/sign-in", async (c) => {
    const origin = c.req.header("origin");
    if (origin && origin !== consoleOrigin(c)) return forbidden(c, "Cross-origin sign-in is refused.");
    const body = await c.req.parseBody();
    const sent = typeof body["csrf"] === "string" ? body["csrf"] : undefined;
    if (!sameToken(sent, signInTokenCookie(c))) return forbidden(c, "The sign-in form's CSRF token is missing or wrong; reload the page.");
    const key = typeof body["api_key"] === "string" ? body["api_key"].trim() : "";
    const s = c.var.services;
    const caller = /^[\x21-\x7e]{1,512}$/.test(key) ? await resolveApiKey(s.db, key) : undefined;
    // Agent credentials speak for one agent through the API; they never open a console.
    if (!caller || caller.role === "agent") {
      c.status(401);
      return c.html(<SignInPage token={signInToken(c)} error="That API key is unknown or revoked." />);
    }
    const { token } = await openConsoleSession(s.db, caller, s.clock.now());
    setSessionCookie(c, token, CONSOLE_SESSION_TTL_S);
    return c.redirect("/console/agents", 303);
  });

  app.post("/sign-out", requireSession, requireCsrf, async (c) => {
    await closeConsoleSession(c.var.services.db, c.var.caller, c.var.services.clock.now());
    clearSessionCookie(c);
    return c.redirect("/console", 303);
  });
}
