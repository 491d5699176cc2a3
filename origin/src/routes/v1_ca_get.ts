import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { rfc3339 } from "../time.ts";
import type { LoadedAuthority } from "../ca/authority.ts";
import { kmOrThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const authorityView = z.object({
  serial_number: z.string(),
  subject: z.string(),
  not_before: z.string(),
  not_after: z.string(),
  certificate_pem: z.string(),
});

export const route = createRoute({
  method: "get",
  path: "/v1/ca",
  summary: "The tenant's CA chain (issuing CA, then root). Accept: application/pem-certificate-chain for raw PEM",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  responses: {
    200: {
      ...dataResponse(z.object({ chain_pem: z.string(), issuing: authorityView, root: authorityView }), "The chain"),
      content: {
        ...dataResponse(z.object({ chain_pem: z.string(), issuing: authorityView, root: authorityView }), "").content,
        "application/pem-certificate-chain": { schema: z.string() },
      },
    },
    ...errorResponses(503),
  },
});

export function view(a: Pick<LoadedAuthority, "record">): z.infer<typeof authorityView> {
  return {
    serial_number: a.record.serialNumber,
    subject: a.record.subject,
    not_before: rfc3339(a.record.notBefore),
    not_after: rfc3339(a.record.notAfter),
    certificate_pem: a.record.certificatePem,
  };
}

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const tenant = { id: c.var.caller.tenantId, name: c.var.caller.tenantName };
    const issuing = kmOrThrow(await s.ca.issuingFor(tenant));
    const root = kmOrThrow(await s.ca.root());
    const chain = issuing.record.certificatePem + root.record.certificatePem;
    if ((c.req.header("accept") ?? "").includes("application/pem-certificate-chain")) {
      return c.body(chain, 200, { "content-type": "application/pem-certificate-chain" });
    }
    return c.json({ data: { chain_pem: chain, issuing: view(issuing), root: view(root) } }, 200);
  });
}
