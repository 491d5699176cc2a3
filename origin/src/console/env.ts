import type { Caller, CallerRole } from "../auth/authenticate.ts";
import type { Services } from "../services.ts";

/** The signed-in console user: the API key's caller plus the session it signed in with. */
export type ConsoleCaller = Caller & { sessionId: string };

/** Hono variables of the console sub-app. */
export interface ConsoleEnv {
  Variables: {
    services: Services;
    caller: ConsoleCaller;
    /** The session's CSRF token, embedded in every form of the page. */
    csrf: string;
  };
}

/**
 * What each console view or action needs, the same roles as the API route it mirrors (so the
 * console never shows or does more than the key could through the API). Auditors only read.
 */
export const CONSOLE_ROLES = {
  agents: ["admin", "issuer", "auditor"],
  events: ["admin", "auditor"],
  audit: ["admin", "auditor"],
  reviews: ["admin", "auditor"],
  review: ["admin"],
  health: ["admin"],
  keys: ["admin"],
  credentials: ["admin", "issuer", "auditor"],
  revokeKey: ["admin"],
  revokeCredential: ["admin", "issuer"],
} as const satisfies Record<string, readonly CallerRole[]>;

export type ConsoleAbility = keyof typeof CONSOLE_ROLES;

export function may(caller: Pick<Caller, "role">, what: ConsoleAbility): boolean {
  return (CONSOLE_ROLES[what] as readonly CallerRole[]).includes(caller.role);
}
