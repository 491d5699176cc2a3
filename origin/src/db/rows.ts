import type { agents } from "./schema.ts";

/** An agent as stored: what domain code (lifecycle/, audit/) and the views both work with. */
export type AgentRow = typeof agents.$inferSelect;
