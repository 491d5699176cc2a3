export * from "./result.ts";
export * from "./problem.ts";
export * from "./scope.ts";
export * from "./bands.ts";
export * from "./schemas.ts";
