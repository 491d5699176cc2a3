export * from "./result.ts";
export * from "./problem.ts";
export * from "./scope.ts";
export * from "./bands.ts";
export * from "./schemas.ts";
export * from "./internal-auth.ts";
export * from "./edge-records.ts";
export * from "./ocsp.ts";
