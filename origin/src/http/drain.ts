import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";

/** Whether the origin has been told to stop (shutdown.ts sets it; /readyz and every answer read it). */
export class DrainState {
  #active = false;

  get active(): boolean {
    return this.#active;
  }

  start(): void {
    this.#active = true;
  }
}

/**
 * While draining, every answer says `Connection: close`, so a pooling client or a load balancer
 * opens its next connection elsewhere instead of reusing one to a listener about to close.
 */
export const closeConnectionsWhileDraining: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.var.services?.drain?.active) c.header("connection", "close");
};
