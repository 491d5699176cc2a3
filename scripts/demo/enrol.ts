/** Steps 2–4: an agent gets an identity, a certificate, and is verified at the edge. */
import { createHash } from "node:crypto";
import { admin, verifyAtEdge, type Agent, type Certificate, type Ctx } from "./context.ts";
import { c, band } from "./output.ts";
import { check, expectStatus, pollUntil } from "./runner.ts";
import { SCOPES } from "./traffic.ts";

export function register(ctx: Ctx): Promise<Agent> {
  return ctx.run.step("Register an agent", async () => {
    const model = {
      name: "gpt-4o",
      version: "2024-08-06",
      // Stands for the hash of the weights, system prompt and config the agent runs.
      hash: `sha256:${createHash("sha256").update("trading-bot-7f3a weights+prompt+config").digest("hex")}`,
    };
    const a = await admin<{ data: Agent }>(ctx, "POST", "/v1/agents", {
      name: "trading-bot-7f3a", model, owner: { name: "Alice Risk", email: "alice@bank.example" }, scopes: SCOPES,
    });
    const agent = expectStatus(a, 201, "POST /v1/agents").data;
    return {
      value: agent,
      facts: [
        `agent ${c.cyan(agent.id)} "${agent.name}", status ${agent.status}`,
        `model ${agent.model.name} ${agent.model.version} (${agent.model.hash.slice(0, 19)}…), scopes ${agent.scopes.join(", ")}`,
      ],
    };
  });
}

export function certify(ctx: Ctx, agent: Agent): Promise<{ cert: Certificate; certifiedAt: number }> {
  return ctx.run.step("Certify it (X.509, RSA-2048 key generated inside the key manager)", async () => {
    const a = await admin<{ data: Certificate }>(ctx, "POST", `/v1/agents/${agent.id}/certify`);
    const cert = expectStatus(a, 201, `POST /v1/agents/${agent.id}/certify`).data;
    return {
      value: { cert, certifiedAt: a.at.mono },
      facts: [
        `serial ${c.cyan(cert.serial_number)}, valid ${cert.issued_at} → ${cert.expires_at}`,
        `private key ${cert.kms_key_arn} stays in the key manager; only its reference is stored`,
      ],
    };
  });
}

/** Resolves to the certificate's notBefore (ms): no event may claim an earlier time. */
export function verifyActive(ctx: Ctx, cert: Certificate, certifiedAt: number): Promise<number> {
  return ctx.run.step("Verify at the edge", async () => {
    // The origin publishes the new certificate to the edge asynchronously: wait until it is there.
    const seen = await pollUntil(async () => {
      const v = await verifyAtEdge(ctx, cert.serial_number);
      return v.status === 200 ? v : undefined;
    }, { timeoutMs: 15_000, everyMs: 25, what: `certificate ${cert.serial_number} at the edge` });
    const v = seen.body.data;
    check(v.status === "active" && v.valid, `GET /v1/verify/${cert.serial_number}: expected active and valid, got ${v.status}, valid ${v.valid}`);
    return {
      value: Date.parse(v.not_before),
      facts: [
        `GET /v1/verify/${cert.serial_number.slice(0, 8)}… → ${c.green(v.status)}, valid ${v.valid}, risk ${v.risk.score.toFixed(2)} ${band(v.risk.band)}`,
        `the certificate reached the edge ${Math.round(seen.at.mono - certifiedAt)} ms after certify returned`,
      ],
    };
  });
}
