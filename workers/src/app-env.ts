/** Hono environment of the Worker. */
export interface EdgeEnv {
  Bindings: Env;
  /** This request's x-request-id (edgeBaseHeaders): what the edge's calls to the origin for it carry. */
  Variables: { requestId: string };
}
