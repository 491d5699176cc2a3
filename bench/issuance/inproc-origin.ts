import { randomBytes } from "node:crypto";
import { createApp } from "@kakunin/origin/app";
import { bootstrap } from "@kakunin/origin/bootstrap";
import { buildServices, type Built } from "@kakunin/origin/build-services";
import { loadConfig } from "@kakunin/origin/config";
import type { LoadedAuthority } from "@kakunin/origin/ca/authority";
import { createLocalKeyManager } from "@kakunin/origin/kms/local";
import { loadMasterKey } from "@kakunin/origin/kms/master-key";
import { timedKeys, type KeyTimings } from "./timed-keys.ts";

export interface InProcessOrigin {
  built: Built;
  app: ReturnType<typeof createApp>;
  tenant: { id: string; name: string };
  issuing: LoadedAuthority;
  adminKey: string;
  timings: KeyTimings;
  /** Registers `count` agents through the app and returns their ids. */
  registerAgents(count: number): Promise<string[]>;
}

/**
 * The origin as main.ts builds it (PGlite on disk under `dataDir`, local KeyManager with its
 * default pool), except that the KeyManager is wrapped to time its calls.
 */
export async function startInProcessOrigin(dataDir: string): Promise<InProcessOrigin> {
  const adminKey = randomBytes(24).toString("hex");
  const config = loadConfig({ KAKUNIN_DATA_DIR: dataDir, KAKUNIN_ADMIN_KEY: adminKey });
  const timings: KeyTimings = { createKey: [], sign: [] };
  const masterKey = loadMasterKey(undefined, dataDir);
  const built = await buildServices(config, {
    keys: (database) => timedKeys(createLocalKeyManager({ db: database.db, masterKey, poolSize: config.KAKUNIN_LOCAL_KEY_POOL }), timings),
  });
  try {
    const boot = await bootstrap(built.services.db, adminKey);
    const tenant = { id: boot.tenantId, name: "default" };
    const issuing = await built.services.ca.issuingFor(tenant);
    if (!issuing.ok) throw new Error(`issuing CA: ${issuing.error.message}`);
    // As main.ts does after the CA exists: start the background filler.
    built.services.keys.warm?.();
    const app = createApp(built.services);
    const registerAgents = async (count: number) => {
      const ids: string[] = [];
      const body = JSON.stringify({
        name: "profile-agent", model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
        owner: { name: "Profile", email: "profile@example.test" }, scopes: ["x"],
      });
      for (let i = 0; i < count; i++) {
        const res = await app.request("/v1/agents", {
          method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body,
        });
        const json = (await res.json()) as { data?: { id?: string } };
        if (res.status !== 201 || !json.data?.id) throw new Error(`register agent: HTTP ${res.status}`);
        ids.push(json.data.id);
      }
      return ids;
    };
    return { built, app, tenant, issuing: issuing.value, adminKey, timings, registerAgents };
  } catch (e) {
    await built.close();
    throw e;
  }
}

