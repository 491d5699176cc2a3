import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { problemResponse, problem, showControls } from "@kakunin/shared";
import { csrfTokenOf, resolveConsoleSession } from "../lifecycle/console-session.ts";
import { may, type ConsoleAbility, type ConsoleEnv } from "./env.ts";

/**
 * Strict CSP: scripts, styles and data only from this origin, no inline script or style, no
 * framing, forms post only here. uPlot styles its elements through the CSSOM, which CSP allows.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const consoleHeaders: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  await next();
  c.header("content-security-policy", CONSOLE_CSP);
  c.header("x-frame-options", "DENY");
  // Not no-referrer: with it chromium sends `Origin: null` on same-origin form posts, which the origin check refuses.
  c.header("referrer-policy", "same-origin");
  c.header("cross-origin-opener-policy", "same-origin");
  if (!c.res.headers.get("cache-control")) c.header("cache-control", "no-store");
};

/**
 * Every page shows steering characters as `\uXXXX` text, never obeys them: an action an older
 * edge accepted with U+202E reversed the score after it. The rendered page is rewritten whole, so
 * no string from the database can be missed; the page's own markup holds none of them.
 */
export const visibleControls: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  await next();
  if (!/^text\/html/i.test(c.res.headers.get("content-type") ?? "")) return;
  const html = await c.res.clone().text();
  const shown = showControls(html);
  if (shown !== html) c.res = new Response(shown, { status: c.res.status, headers: c.res.headers });
};

/** Behind TLS (directly or via a proxy that says so) cookies are Secure and `__Host-` prefixed. */
function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/**
 * The origin the browser is on, which a form post's `Origin` must equal: behind a proxy that
 * terminates TLS the request reaches us as http, but the browser sends `Origin: https://…`.
 */
export function consoleOrigin(c: Context): string {
  const url = new URL(c.req.url);
  return `${overTls(c) ? "https:" : url.protocol}//${url.host}`;
}

const sessionName = (c: Context) => (overTls(c) ? "__Host-kakunin_session" : "kakunin_session");
const preName = (c: Context) => (overTls(c) ? "__Host-kakunin_signin" : "kakunin_signin");

export function setSessionCookie(c: Context, token: string, maxAgeS: number): void {
  setCookie(c, sessionName(c), token, { httpOnly: true, secure: overTls(c), sameSite: "Strict", path: "/", maxAge: maxAgeS });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, sessionName(c), { path: "/", secure: overTls(c) });
}

export function sessionToken(c: Context): string | undefined {
  return getCookie(c, sessionName(c));
}

/** The sign-in form's CSRF token: double-submit, a random cookie that the form must echo. */
export function signInToken(c: Context): string {
  const existing = getCookie(c, preName(c));
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  // Path=/: a `__Host-` cookie must have it (behind TLS), and Hono throws on one without it.
  setCookie(c, preName(c), fresh, { httpOnly: true, secure: overTls(c), sameSite: "Strict", path: "/", maxAge: 3600 });
  return fresh;
}

export function signInTokenCookie(c: Context): string | undefined {
  return getCookie(c, preName(c));
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function wantsJson(c: Context): boolean {
  return c.req.path.endsWith(".json");
}

/** Every page but sign-in: a live session, else back to the sign-in form (JSON endpoints: 401). */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const token = sessionToken(c);
  const s = c.var.services;
  const caller = token ? await resolveConsoleSession(s.db, token, s.clock.now()) : undefined;
  if (!caller) {
    if (token) clearSessionCookie(c);
    if (wantsJson(c)) return problemResponse(problem("unauthorized", "Sign in to the console first."));
    return c.redirect("/console", 303);
  }
  c.set("caller", caller);
  c.set("csrf", csrfTokenOf(token!));
  await next();
};

/**
 * Every POST: the form's CSRF token must match the session's, and a browser-sent Origin must be
 * this origin (SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock).
 */
export const requireCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (c.req.method === "POST") {
    const origin = c.req.header("origin");
    if (origin && origin !== consoleOrigin(c)) return forbidden(c, "Cross-origin form posts are refused.");
    const body = await c.req.parseBody();
    const sent = typeof body["csrf"] === "string" ? body["csrf"] : undefined;
    if (!sameToken(sent, c.var.csrf)) return forbidden(c, "The form's CSRF token is missing or wrong; reload the page and try again.");
  }
  await next();
};

export function forbidden(c: Context, detail: string): Response {
  return problemResponse({ ...problem("forbidden", detail), instance: c.req.path });
}

/** 403 unless the signed-in role may do `what` (the same roles as the API route it mirrors). */
export function allow(what: ConsoleAbility): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (!may(c.var.caller, what)) return forbidden(c, `Role '${c.var.caller.role}' may not use this part of the console.`);
    await next();
  };
}
