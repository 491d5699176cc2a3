import express from "express";
import { Hono } from "hono";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { kakunin as expressKakunin, keepRawBody } from "../src/express.ts";
import { kakunin as honoKakunin, type KakuninEnv } from "../src/hono.ts";
import type { KakuninAgent, Verifier } from "../src/index.ts";
import { OTHER_HASH } from "./support.ts";

/** The scope each protected route requires; computed per request, as a real gateway would. */
export function scopeFor(path: string): string | undefined {
  const table: Record<string, string> = {
    "/api/orders": "orders.place",
    "/api/orders/cancel": "orders.cancel",
    "/api/customers/42": "crm.lookup_customer",
    "/api/payments": "payments.send",
  };
  return table[path];
}

export interface GatewayUnderTest {
  name: string;
  /** Base URL requests are signed for (and, for Express, sent to). */
  base: string;
  send(req: Request): Promise<Response>;
  close(): Promise<void>;
}

/** What every gateway route answers once kakunin() let the request through. */
function echo(agent: KakuninAgent | undefined, body: unknown): Record<string, unknown> {
  return { serial: agent?.serial, agent_id: agent?.data?.agent_id ?? null, possession: agent?.possession, degraded: agent?.degraded, body: body ?? null };
}

/** Mounts of the same policy in both frameworks: `/api` (signed, per-route scope) and variants. */
interface Mounts {
  verifier: Verifier;
  closedEdgeUrl: string;
}

/** The host the Hono gateway answers for (its requests are built for http://gateway.test). */
export const HONO_AUTHORITY = "gateway.test";

export function honoGateway(m: Mounts): GatewayUnderTest {
  const app = new Hono<KakuninEnv>();
  app.use("/api/*", honoKakunin({ authority: HONO_AUTHORITY, verifier: m.verifier, scope: (c) => scopeFor(c.req.path) }));
  app.use("/model/*", honoKakunin({ authority: HONO_AUTHORITY, verifier: m.verifier, modelHash: OTHER_HASH }));
  app.use("/closed/*", honoKakunin({ authority: HONO_AUTHORITY, verifier: { edgeUrl: m.closedEdgeUrl } }));
  app.use("/open/*", honoKakunin({ authority: HONO_AUTHORITY, verifier: { edgeUrl: m.closedEdgeUrl, failClosed: false } }));
  app.use("/nopop/*", honoKakunin({ authority: HONO_AUTHORITY, verifier: m.verifier, proofOfPossession: false }));
  app.all("*", async (c) => {
    const text = await c.req.text();
    return c.json(echo(c.get("kakuninAgent"), text ? JSON.parse(text) : null));
  });
  return { name: "hono", base: "http://gateway.test", send: async (req) => app.request(req), close: async () => {} };
}

export async function expressGateway(m: Mounts): Promise<GatewayUnderTest> {
  // Listening first: the authority the gateway answers for includes the port it got.
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const authority = new URL(base).host;
  app.use("/api", expressKakunin({ authority, verifier: m.verifier, scope: (req) => scopeFor(new URL(req.originalUrl, "http://x").pathname) }));
  app.use("/parsed", express.json({ verify: keepRawBody }), expressKakunin({ authority, verifier: m.verifier, scope: "orders.place" }));
  app.use("/misparsed", express.json(), expressKakunin({ authority, verifier: m.verifier }));
  app.use("/model", expressKakunin({ authority, verifier: m.verifier, modelHash: OTHER_HASH }));
  app.use("/closed", expressKakunin({ authority, verifier: { edgeUrl: m.closedEdgeUrl } }));
  app.use("/open", expressKakunin({ authority, verifier: { edgeUrl: m.closedEdgeUrl, failClosed: false } }));
  app.use("/nopop", expressKakunin({ authority, verifier: m.verifier, proofOfPossession: false }));
  app.use((req, res) => {
    const agent = req.kakuninAgent;
    if (agent !== res.locals.kakuninAgent) throw new Error("req.kakuninAgent and res.locals.kakuninAgent differ");
    res.json(echo(agent, req.body));
  });
  return {
    name: "express",
    base,
    send: (req) => fetch(req),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
