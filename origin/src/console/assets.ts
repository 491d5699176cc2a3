import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import type { ConsoleEnv } from "./env.ts";

const require = createRequire(import.meta.url);

/**
 * Our own assets sit beside this file in source, and in `console-assets/` beside the bundle
 * (scripts/build.mjs copies them), the way migrations are found.
 */
function own(name: string): string {
  for (const dir of [new URL("./console-assets/", import.meta.url), new URL("./assets/", import.meta.url)]) {
    try {
      return readFileSync(fileURLToPath(new URL(name, dir)), "utf8");
    } catch {
      /* try the next place */
    }
  }
  throw new Error(`console asset ${name} not found`);
}

const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" } as const;

/** Every file the console serves: read once at start, so a page never waits on the disk. */
function load(): Map<string, { body: string; type: string }> {
  const files = new Map<string, { body: string; type: string }>();
  files.set("uPlot.iife.min.js", { body: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"), type: TYPES.js });
  files.set("uPlot.min.css", { body: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"), type: TYPES.css });
  files.set("console.js", { body: own("console.js"), type: TYPES.js });
  files.set("console.css", { body: own("console.css"), type: TYPES.css });
  return files;
}

/** Bytes the console adds to every origin: its own and uPlot's files (reported by the tests). */
export function consoleAssetBytes(): number {
  let n = 0;
  for (const f of load().values()) n += Buffer.byteLength(f.body);
  return n;
}

export function registerAssets(app: Hono<ConsoleEnv>): void {
  const files = load();
  app.get("/assets/:name", (c) => {
    const f = files.get(c.req.param("name"));
    if (!f) return c.notFound();
    c.header("content-type", f.type);
    c.header("cache-control", "private, max-age=300");
    return c.body(f.body);
  });
}
