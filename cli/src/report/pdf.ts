/** `--pdf`: prints the report's HTML with headless chromium (Debian's, or KAKUNIN_CHROMIUM). */
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { err, ok, type Result } from "@kakunin/shared";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const p = join(dir, name);
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export async function findChromium(): Promise<string | undefined> {
  if (process.env.KAKUNIN_CHROMIUM) return process.env.KAKUNIN_CHROMIUM;
  for (const c of CANDIDATES) {
    const p = await onPath(c);
    if (p) return p;
  }
  return undefined;
}

/**
 * Prints `htmlPath` to `pdfPath`. A throwaway profile directory keeps runs independent; no
 * network is needed (the HTML is self-contained) and none is reachable (a dead proxy). Bounded: a hung browser is killed after 90 s.
 */
export async function printPdf(htmlPath: string, pdfPath: string): Promise<Result<void, string>> {
  const browser = await findChromium();
  if (!browser) return err("no chromium found (install Debian's `chromium`, or set KAKUNIN_CHROMIUM)");
  const profile = await mkdtemp(join(tmpdir(), "kakunin-pdf-"));
  try {
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-pdf-header-footer",
      // Offline by construction, not only by the report's CSP: every request, loopback included
      // (`<-loopback>` removes chromium's implicit bypass), goes to a proxy on a port nothing
      // serves, so no URL in the HTML can tell anyone the report was opened. Script stays
      // CSP-only: `--blink-settings=scriptEnabled=false` stops headless chromium printing at all.
      "--proxy-server=http://127.0.0.1:1",
      "--proxy-bypass-list=<-loopback>",
      `--user-data-dir=${profile}`,
      `--print-to-pdf=${resolve(pdfPath)}`,
      pathToFileURL(resolve(htmlPath)).href,
    ];
    const out = await new Promise<{ code: number | null; log: string }>((res) => {
      const p = spawn(browser, args, { stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      p.stdout.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
      p.stderr.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
      const timer = setTimeout(() => p.kill("SIGKILL"), 90_000);
      p.on("error", (e) => {
        clearTimeout(timer);
        res({ code: -1, log: e.message });
      });
      p.on("close", (code) => {
        clearTimeout(timer);
        res({ code, log });
      });
    });
    const size = await stat(pdfPath).then(
      (s) => s.size,
      () => 0,
    );
    if (out.code !== 0 || size === 0) return err(`chromium could not print the PDF (exit ${out.code}): ${out.log.trim().split("\n").slice(-3).join(" | ")}`);
    return ok(undefined);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
