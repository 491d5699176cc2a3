/**
 * The command line after the script, without the `--` that `pnpm --filter @kakunin/bench <script> -- …`
 * passes through (pnpm 10 forwards it; node:util parseArgs would read everything after it as
 * positionals and refuse the run).
 */
export function cliArgs(): string[] {
  const a = process.argv.slice(2);
  return a[0] === "--" ? a.slice(1) : a;
}
