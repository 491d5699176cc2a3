import type { Context } from "hono";
import { problem, problemResponse, type FieldError, type ProblemType, type PublishAck } from "@kakunin/shared";

/** A problem+json response at the edge, with the request path as `instance`. */
export function edgeProblem(
  c: Context,
  type: ProblemType,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string>; agent_ids?: string[]; ack?: PublishAck } = {},
): Response {
  const { headers, ...rest } = extra;
  return problemResponse({ ...problem(type, detail, rest), instance: new URL(c.req.url).pathname }, headers);
}
