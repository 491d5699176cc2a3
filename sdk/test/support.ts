import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../../test/support/system.ts";
import type { FetchLike } from "../src/index.ts";

export const MODEL_HASH = `sha256:${"ab".repeat(32)}`;
export const OTHER_HASH = `sha256:${"cd".repeat(32)}`;

export interface Agent {
  id: string;
  certificateId: string;
  serial: string;
  certificatePem: string;
  /** The agent's own credential (kka_…): what its runtime signs with, never an API key. */
  credential: string;
}

/** One real origin + edge per test file, and the admin calls the tests need. */
export class TestSystem {
  readonly fx = systemFixture();
  #sys: RunningSystem | undefined;

  async start(): Promise<void> {
    this.#sys = await startSystem(this.fx);
  }

  async stop(): Promise<void> {
    await this.#sys?.stop();
    this.fx.cleanup();
  }

  get sys(): RunningSystem {
    if (!this.#sys) throw new Error("system not started");
    return this.#sys;
  }

  get edgeUrl(): string {
    return this.sys.edge.url;
  }

  get originUrl(): string {
    return this.sys.origin.url;
  }

  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: { data: Record<string, unknown> } }> {
    const res = await fetch(`${this.originUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.fx.adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
  }

  /** A new agent with an active certificate the edge already knows. */
  async certifiedAgent(scopes: string[] = ["orders.*", "crm.lookup_customer"]): Promise<Agent> {
    const created = await this.api("POST", "/v1/agents", {
      name: `gateway-test-${crypto.randomUUID().slice(0, 8)}`,
      model: { name: "gpt-4o", version: "2024-08-06", hash: MODEL_HASH },
      owner: { name: "Alice Risk", email: "alice@bank.example" },
      scopes,
    });
    if (created.status !== 201) throw new Error(`create agent: ${created.status} ${JSON.stringify(created.body)}`);
    const id = String(created.body.data.id);
    const cert = await this.api("POST", `/v1/agents/${id}/certify`);
    if (cert.status !== 201) throw new Error(`certify: ${cert.status} ${JSON.stringify(cert.body)}`);
    const cred = await this.api("POST", `/v1/agents/${id}/credentials`, { name: "gateway-test runtime" });
    if (cred.status !== 201) throw new Error(`credential: ${cred.status} ${JSON.stringify(cred.body)}`);
    const agent = {
      id, certificateId: String(cert.body.data.id), serial: String(cert.body.data.serial_number), certificatePem: String(cert.body.data.certificate_pem),
      credential: String(cred.body.data.key),
    };
    await this.edgeStatus(agent.serial, "active");
    return agent;
  }

  async revoke(agent: Agent, reason = "compliance hold"): Promise<void> {
    const r = await this.api("POST", `/v1/certificates/${agent.certificateId}/revoke`, { reason });
    if (r.status !== 200) throw new Error(`revoke: ${r.status}`);
    await this.edgeStatus(agent.serial, "revoked");
  }

  /** Waits until the edge itself (no SDK) answers `status` for the serial. */
  async edgeStatus(serial: string, status: string): Promise<void> {
    await pollUntil(async () => {
      const r = await fetch(`${this.edgeUrl}/v1/verify/${serial}`);
      const body = r.status === 200 ? ((await r.json()) as { data: { status: string } }) : undefined;
      return body?.data.status === status ? true : undefined;
    }, 10_000, 25);
  }
}

/** The real fetch, counting the requests that go through it. */
export function countingFetch(): { fetch: FetchLike; urls: string[] } {
  const urls: string[] = [];
  return { urls, fetch: (req) => { urls.push(req.url); return fetch(req); } };
}

/** A TCP port nothing listens on: connections are refused. */
export { freePort as closedPort } from "../../test/support/system.ts";
