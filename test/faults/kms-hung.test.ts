import { createServer, connect, type Socket } from "node:net";
import { afterAll, expect, it } from "vitest";
import { startKmsTestServer, type KmsTestServer } from "../support/kms-server.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/**
 * A TCP forwarder that can turn into a black hole: while hung it accepts connections and never
 * answers (the worst KMS/HSM failure: no error, no reset, just silence), and cuts the open ones.
 */
async function hangableProxy(target: URL): Promise<{ url: string; hang(h: boolean): void; close(): Promise<void> }> {
  let hung = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client)).on("error", () => client.destroy());
    if (hung) return; // accepted, never answered
    const up = connect(Number(target.port), target.hostname);
    open.add(up);
    up.on("close", () => { open.delete(up); client.destroy(); }).on("error", () => client.destroy());
    client.on("close", () => up.destroy());
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hang(h) {
      hung = h;
      if (h) for (const s of open) s.destroy();
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const fx = systemFixture();
let sys: RunningSystem | undefined;
let kms: KmsTestServer | undefined;
let proxy: Awaited<ReturnType<typeof hangableProxy>> | undefined;
afterAll(async () => {
  await sys?.stop();
  await proxy?.close();
  await kms?.close();
  fx.cleanup();
});

it("KMS hung (accepts, never answers): revocations still reach the edge, certify answers 503 promptly, /readyz names the key manager; recovers by itself", async () => {
  kms = await startKmsTestServer();
  proxy = await hangableProxy(new URL(kms.url));
  sys = await startSystem(fx, {
    KAKUNIN_KEY_MANAGER: "aws-kms", KAKUNIN_KMS_ENDPOINT: proxy.url, AWS_REGION: kms.region,
    AWS_ACCESS_KEY_ID: kms.accessKeyId, AWS_SECRET_ACCESS_KEY: kms.secretAccessKey,
  });
  const { api, certified, edgeHolds } = apis(() => sys!.origin.url, () => sys!.edge.url, fx.adminKey);
  const certs = [];
  for (let i = 0; i < 3; i++) certs.push((await certified())!);
  await edgeHolds(certs.map((c) => c.serial), "active", 30_000);

  proxy.hang(true);
  let acknowledged = 0;
  for (const c of certs.slice(0, 2)) if ((await api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "kms hung" })).status === 200) acknowledged++;
  expect(acknowledged).toBe(2);
  const t1 = performance.now();
  const agent = await api("POST", "/v1/agents", { name: "kms-hung", model: { name: "m", version: "1", hash: `sha256:${"ef".repeat(32)}` }, owner: { name: "o", email: "o@bank.example" }, scopes: ["x.*"] });
  const refused = await api("POST", `/v1/agents/${agent.body.data.id}/certify`);
  expect(refused.status).toBe(503);
  expect(performance.now() - t1).toBeLessThan(15_000);
  const t2 = performance.now();
  const ready = await fetch(`${sys.origin.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(performance.now() - t2).toBeLessThan(5000);
  expect(((await ready.json()) as { detail: string }).detail).toMatch(/key_manager/);
  // Status records need no signature: the revocations reach the edge while the KMS is silent.
  await edgeHolds(certs.slice(0, 2).map((c) => c.serial), "revoked", 60_000);

  proxy.hang(false);
  const t3 = performance.now();
  const again = await pollUntil(async () => {
    const r = await api("POST", `/v1/agents/${agent.body.data.id}/certify`);
    return r.status === 201 ? r : undefined;
  }, 30_000, 500);
  reportFault({
    fault: "KMS hung (accepts, never answers)", acknowledged: acknowledged + 1, stored: acknowledged + 1, duplicates: 0, recoveryMs: performance.now() - t3,
    note: `certify 503 in ${Math.round(t2 - t1)} ms while hung; revocations published unsigned, re-signed later (${again.value.status})`,
  });
}, 240_000);
