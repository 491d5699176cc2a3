import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { TREE_HEAD_CONTEXT } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { ApiError } from "../http/api-error.ts";
import { apiKeyActor } from "../audit/types.ts";
import { signAsAgent } from "../lifecycle/sign-as-agent.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams, jsonBody } from "./openapi.ts";

const MAX_PAYLOAD = 512 * 1024;

export const signRequest = z.strictObject({
  /** Standard base64 (RFC 4648 §4) of the bytes to sign, at most 512 KiB decoded. */
  payload_b64: z.string().min(1).max(Math.ceil(MAX_PAYLOAD / 3) * 4).regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be padded standard base64"),
  /** AWS KMS name of the only algorithm agent keys use; `RS256` is accepted as its JOSE alias. */
  algorithm: z.enum(["RSASSA_PKCS1_V1_5_SHA_256", "RS256"]).default("RSASSA_PKCS1_V1_5_SHA_256"),
});

const signResponse = z.object({
  certificate_id: z.uuid(),
  serial_number: z.string(),
  kms_key_arn: z.string(),
  algorithm: z.literal("RSASSA_PKCS1_V1_5_SHA_256"),
  payload_sha256: z.string(),
  signature_b64: z.string(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/sign",
  summary: "Sign a payload with the agent's key inside the KeyManager (proof of possession)",
  security: bearer,
  // An agent credential may use this route for its own agent (requireRole checks the :id).
  middleware: [requireRole("admin", "issuer", "agent")] as const,
  request: { params: idParams, body: jsonBody(signRequest) },
  responses: { 200: dataResponse(signResponse, "The signature"), ...errorResponses(404, 409, 422, 503) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const payload = Buffer.from(body.payload_b64, "base64");
    if (payload.length === 0 || payload.toString("base64").replace(/=+$/, "") !== body.payload_b64.replace(/=+$/, "")) {
      throw new ApiError("validation-failed", "1 invalid field(s) in the request body", {
        errors: [{ path: "payload_b64", message: "must be non-empty, canonical standard base64" }],
      });
    }
    // Domain separation: an agent key never signs anything that reads as a signed tree head.
    // (The verifier refuses agent certificates as tree-head signers anyway; this keeps the
    // message space of the two kinds of signature disjoint.)
    if (payload.subarray(0, TREE_HEAD_CONTEXT.length).equals(Buffer.from(TREE_HEAD_CONTEXT))) {
      throw new ApiError("validation-failed", "agent keys do not sign tree-head messages", {
        errors: [{ path: "payload_b64", message: `must not start with the tree-head context string ${JSON.stringify(TREE_HEAD_CONTEXT)}` }],
      });
    }
    const { cert, signature, payloadSha256 } = orThrow(await signAsAgent(s, c.var.caller.tenantId, id, payload, apiKeyActor(c.var.caller)));
    return c.json({
      data: {
        certificate_id: cert.id,
        serial_number: cert.serialNumber,
        kms_key_arn: cert.keyRef,
        algorithm: "RSASSA_PKCS1_V1_5_SHA_256" as const,
        payload_sha256: payloadSha256,
        signature_b64: Buffer.from(signature).toString("base64"),
      },
    }, 200);
  });
}
