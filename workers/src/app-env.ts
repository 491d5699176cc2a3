/** Hono environment of the Worker. */
export interface EdgeEnv {
  Bindings: Env;
}
