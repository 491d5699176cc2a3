import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isMainThread } from "node:worker_threads";
import type * as GrapheneModule from "../../origin/node_modules/graphene-pk11";

/**
 * A throwaway SoftHSM2 token for tests, made by scripts/softhsm-up.sh.
 *
 * SoftHSM reads SOFTHSM2_CONF from the process environment at C_Initialize, so there is one token
 * config per process: a second setup while one is active throws instead of silently pointing the
 * already-initialised library at the wrong token directory.
 */

export interface SoftHsm {
  modulePath: string;
  tokenLabel: string;
  pin: string;
  dir: string;
  /** Restores SOFTHSM2_CONF and deletes the token directory. Close every key manager first. */
  cleanup(): Promise<void>;
}

export type Graphene = typeof GrapheneModule;

const SCRIPT = fileURLToPath(new URL("../../scripts/softhsm-up.sh", import.meta.url));
const ORIGIN_PACKAGE = fileURLToPath(new URL("../../origin/package.json", import.meta.url));
let active: SoftHsm | undefined;

function softHsmInstalled(): boolean {
  return !spawnSync("softhsm2-util", ["--version"], { stdio: "ignore" }).error;
}

/**
 * Creates a fresh token and points SOFTHSM2_CONF at it. Returns null when SoftHSM2 is not installed
 * (for `describe.skipIf`), except under CI=true, where a silent skip would hide a broken pipeline.
 */
export async function setupSoftHsm(options: { tokenLabel?: string; pin?: string } = {}): Promise<SoftHsm | null> {
  if (!softHsmInstalled()) {
    if (process.env.CI === "true") throw new Error("softhsm2-util is not installed; CI must run the PKCS#11 tests");
    return null;
  }
  if (active) throw new Error(`a SoftHSM token (${active.dir}) is already active in this process; SOFTHSM2_CONF is process-global`);
  // A worker thread's process.env is a private copy that never reaches getenv() in native code.
  if (!isMainThread) throw new Error("setupSoftHsm needs its own process (vitest pool 'forks'), not a worker thread");

  const dir = await mkdtemp(join(tmpdir(), "kakunin-softhsm-"));
  const env = { ...process.env };
  if (options.tokenLabel !== undefined) env.KAKUNIN_PKCS11_TOKEN_LABEL = options.tokenLabel;
  if (options.pin !== undefined) env.KAKUNIN_PKCS11_PIN = options.pin;
  const { stdout } = await promisify(execFile)("bash", [SCRIPT, dir], { env });
  const vars = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const need = (key: string): string => {
    const value = vars.get(key);
    if (value === undefined) throw new Error(`softhsm-up.sh printed no ${key}; output was:\n${stdout}`);
    return value;
  };

  const previousConf = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = need("SOFTHSM2_CONF");
  const hsm: SoftHsm = {
    modulePath: need("KAKUNIN_PKCS11_MODULE"),
    tokenLabel: need("KAKUNIN_PKCS11_TOKEN_LABEL"),
    pin: need("KAKUNIN_PKCS11_PIN"),
    dir,
    async cleanup() {
      if (active !== hsm) return;
      active = undefined;
      if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previousConf;
      await rm(dir, { recursive: true, force: true });
    },
  };
  active = hsm;
  return hsm;
}

/**
 * graphene-pk11 for tests that inspect the token directly. It is a dependency of origin, not of this
 * package, so it is loaded from origin's node_modules (the same copy the key manager uses).
 */
export function loadGraphene(): Graphene {
  const graphene: Graphene = createRequire(ORIGIN_PACKAGE)("graphene-pk11");
  return graphene;
}
