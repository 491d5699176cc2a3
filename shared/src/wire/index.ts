/** Every edge⇄origin contract, once: path, schema and version, used by the sender and the receiver. */
export * from "./version.ts";
export * from "./publish.ts";
export * from "./events.ts";
export * from "./alerts.ts";
export * from "./dead-letters.ts";
