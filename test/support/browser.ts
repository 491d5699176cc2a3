import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";

const require = createRequire(import.meta.url);

/** Debian's chromium (scripts/install-system-deps.sh installs it), driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/**
 * Records every Content-Security-Policy violation the page reports: the `securitypolicyviolation`
 * DOM event (installed before any page script runs) and chromium's console message for it.
 */
export async function watchCsp(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction("__kakuninCsp", (s: string) => {
    seen.push(s);
  });
  // A string, not a function: the test project is typed for Node, not the DOM.
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (e) => window.__kakuninCsp(e.violatedDirective + " " + e.blockedURI));`);
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

/** JavaScript errors thrown on the page (a broken chart must fail the test, not pass quietly). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (from node_modules, no CDN) in the page and returns the serious and critical
 * violations (WCAG 2.x A/AA rules). The CSP forbids injected script elements, so axe is evaluated
 * through the DevTools protocol, which CSP does not govern.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // Typed by hand: the test project is typed for Node, not the DOM.
    const g = globalThis as unknown as {
      document: unknown;
      axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: (AxeViolation & { nodes: { target: unknown[] }[] })[] }> };
    };
    const r = await g.axe.run(g.document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}
