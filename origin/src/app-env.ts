import type { Caller } from "./auth/authenticate.ts";
import type { Services } from "./services.ts";

/** Hono context variables of the origin. */
export interface AppEnv {
  Variables: {
    services: Services;
    caller: Caller;
  };
}
