export * from "./config.ts";
export * from "./state.ts";
export * from "./features.ts";
export * from "./engine.ts";
export * from "./schema.ts";
export * from "./feedback.ts";
export { MIX_ACTIONS } from "./mix-drift.ts";
export { recordRun, RUN_VALUES } from "./amount-run.ts";
