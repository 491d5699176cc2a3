import { DurableObject } from "cloudflare:workers";

/**
 * The soak's baseline Worker: no Kakunin code, the same storage work per request as the edge's hot
 * paths (a KV read per verify, a Durable Object with SQLite insert per ingest batch), under the
 * same wrangler dev. Run beside the real edge in one soak, its memory slope is what the local
 * runtime (wrangler, miniflare, workerd) grows by itself.
 */
interface Env {
  KV: KVNamespace;
  SINK: DurableObjectNamespace<Sink>;
}

export class Sink extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  record(body: string): number {
    this.ctx.storage.sql.exec("INSERT INTO events (body) VALUES (?)", body);
    return body.length;
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    if (url.pathname === "/noop") return Response.json({ data: null });
    // The soak mirrors each certificate the edge learns, so verify reads hit as often as at the edge.
    if (url.pathname.startsWith("/kv/") && req.method === "PUT") {
      await env.KV.put(url.pathname.slice(4), await req.text());
      return new Response(null, { status: 204 });
    }
    if (url.pathname.startsWith("/v1/verify/")) {
      const rec = await env.KV.get(`cert:${url.pathname.slice(11)}`);
      return rec ? new Response(rec, { headers: { "content-type": "application/json" } }) : Response.json({ status: 404 }, { status: 404 });
    }
    if (url.pathname === "/v1/events" && req.method === "POST") {
      const body = await req.text();
      const who = req.headers.get("authorization") ?? "anonymous";
      const n = await env.SINK.getByName(who.slice(-32)).record(body);
      return Response.json({ data: { accepted: n > 0 ? 1 : 0 } }, { status: 202 });
    }
    return Response.json({ status: 404 }, { status: 404 });
  },
};
