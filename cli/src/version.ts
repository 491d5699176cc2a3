import { readFileSync } from "node:fs";

/** Set by scripts/build.mjs in the compiled bundle; absent when the sources run through tsx. */
declare const KAKUNIN_CLI_VERSION: string | undefined;

/** The CLI's version: baked into the compiled bundle, else read from cli/package.json. */
export function cliVersion(): string {
  if (typeof KAKUNIN_CLI_VERSION === "string") return KAKUNIN_CLI_VERSION;
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}
