#!/usr/bin/env node
// Installed from the packed tarball (`npm i -g kakunin-cli-*.tgz`): the compiled bundle that
// `pnpm build` writes to dist/ (every dependency inlined; no tsx, no TypeScript at run time).
// In the repository the TypeScript sources run through tsx, so a change is live without a build.
import { existsSync } from "node:fs";
import module from "node:module";

const source = new URL("../src/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  // V8's code cache on disk (Node ≥ 22.1; in the OS temp directory): the bundle is ~40k lines, and
  // compiling them is a large part of a short command's time (`audit verify` included).
  module.enableCompileCache?.();
  await import(new URL("../dist/kakunin.js", import.meta.url).href);
}
