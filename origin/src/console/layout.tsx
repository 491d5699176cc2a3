/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { ConsoleCaller } from "./env.ts";
import { may } from "./env.ts";

const NAV = [
  { href: "/console/agents", label: "Agents", what: "agents" },
  { href: "/console/reviews", label: "Review queue", what: "reviews" },
  { href: "/console/health", label: "Tenant health", what: "health" },
  { href: "/console/keys", label: "API keys & credentials", what: "credentials" },
] as const;

/** The page shell: skip link, header with the tenant and role, navigation the role may use, main. */
export function Layout(props: { title: string; caller?: ConsoleCaller; csrf?: string; current?: string; children: Child; scripts?: boolean }) {
  const { caller } = props;
  return (
    <>{raw("<!DOCTYPE html>")}<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Kakunin console`}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        {props.scripts ? <link rel="stylesheet" href="/console/assets/uPlot.min.css" /> : null}
        {props.scripts ? <script src="/console/assets/uPlot.iife.min.js" defer></script> : null}
        {props.scripts ? <script src="/console/assets/console.js" defer></script> : null}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">Kakunin console</span>
          {caller ? (
            <nav aria-label="Console">
              <ul>
                {NAV.filter((n) => may(caller, n.what)).map((n) => (
                  <li><a href={n.href} aria-current={props.current === n.href ? "page" : undefined}>{n.label}</a></li>
                ))}
              </ul>
            </nav>
          ) : null}
          {caller ? (
            <form method="post" action="/console/sign-out" class="who">
              <span>{caller.tenantName} · <strong>{caller.role}</strong>{caller.role === "auditor" ? " (read-only)" : ""}</span>
              <input type="hidden" name="csrf" value={props.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html></>
  );
}

/** A hidden CSRF field for a form on a signed-in page. */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />;
}

/** "3 days ago"-free dates: RFC 3339 in UTC, shortened to the minute, in a <time> element. */
export function When(props: { at: Date | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const iso = props.at.toISOString();
  return <time datetime={iso}>{iso.slice(0, 16).replace("T", " ")}Z</time>;
}

export function Band(props: { band: string | null | undefined }) {
  if (!props.band) return <span class="muted">no events</span>;
  return <span class={`band band-${props.band}`}>{props.band}</span>;
}
