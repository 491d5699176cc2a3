/**
 * Step 5: what a gateway does with @kakunin/verify. A Hono app guarded by the SDK's middleware gets
 * a request the agent signed (RFC 9421) with its key inside the key manager, then the same request
 * replayed, a copy carrying only the serial (what someone reading a log would have), and a copy
 * with a changed body. Only the first may pass.
 */
import { Hono } from "hono";
import { originSigner, signRequest } from "@kakunin/verify";
import { kakunin, type KakuninEnv } from "@kakunin/verify/hono";
import { admin, type Agent, type Certificate, type Ctx } from "./context.ts";
import { c } from "./output.ts";
import { check } from "./runner.ts";

const ORDER = JSON.stringify({ instrument: "EURUSD", side: "buy", amount: 100, currency: "EUR" });

/** Status and problem name of a gateway answer, e.g. `401 signature-replayed`. */
async function outcome(r: Response): Promise<string> {
  if (r.ok) return `${r.status}`;
  const p = (await r.json()) as { type?: string };
  return `${r.status} ${(p.type ?? "").replace("urn:kakunin:problem:", "")}`;
}

export function gatewayCheck(ctx: Ctx, agent: Agent, cert: Certificate): Promise<void> {
  return ctx.run.step("A gateway checks a signed request (@kakunin/verify)", async () => {
    const app = new Hono<KakuninEnv>();
    app.use("/api/*", kakunin({ authority: "gateway.example", verifier: { edgeUrl: ctx.edge.url }, scope: "orders.place" }));
    app.post("/api/orders", (h) => h.json({ accepted: true, agent: h.get("kakuninAgent").data?.agent_urn }));

    const url = "http://gateway.example/api/orders";
    const headers = { "content-type": "application/json" };
    // The agent runtime holds its own credential (sign as this agent only), never the admin key.
    const cred = await admin<{ data: { key: string } }>(ctx, "POST", `/v1/agents/${agent.id}/credentials`, { name: "demo runtime" });
    check(cred.status === 201, `agent credential: expected 201, got ${cred.status}`);
    const signer = originSigner({ originUrl: ctx.origin.url, credential: cred.body.data.key, agentId: agent.id });
    const signed = await signRequest(new Request(url, { method: "POST", headers, body: ORDER }), { serial: cert.serial_number, signer });
    const replay = signed.clone();
    const tampered = new Request(url, { method: "POST", headers: signed.headers, body: ORDER.replace("100", "100000") });
    const serialOnly = new Request(url, { method: "POST", headers: { ...headers, "kakunin-agent-serial": cert.serial_number }, body: ORDER });

    const first = await app.request(signed);
    check(first.status === 200, `signed request: expected 200, got ${await outcome(first)}`);
    const answers = {
      replayed: await outcome(await app.request(replay)),
      serialOnly: await outcome(await app.request(serialOnly)),
      tampered: await outcome(await app.request(tampered)),
    };
    check(answers.replayed === "401 signature-replayed", `replayed request: expected 401 signature-replayed, got ${answers.replayed}`);
    check(answers.serialOnly === "401 signature-missing", `serial without signature: expected 401 signature-missing, got ${answers.serialOnly}`);
    check(answers.tampered.startsWith("401"), `tampered body: expected 401, got ${answers.tampered}`);
    return {
      value: undefined,
      facts: [
        `request signed via POST /v1/agents/:id/sign (key stays in the key manager) → ${c.green("200")}, scope orders.place granted`,
        `same request replayed → ${answers.replayed}; serial copied from a log, no signature → ${answers.serialOnly}`,
        `body changed after signing (amount 100 → 100000) → ${answers.tampered}`,
      ],
    };
  });
}
