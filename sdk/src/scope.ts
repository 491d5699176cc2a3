/**
 * Scope matching, the one definition the edge, the origin and gateways share (shared/src/scope.ts
 * re-exports it from `@kakunin/verify/rules`): a declared scope is an action (`orders.place`), a
 * prefix wildcard (`orders.*` covers everything under `orders.`), or `*` for everything.
 */
export function scopeCovers(declared: string, action: string): boolean {
  if (declared === "*") return true;
  if (declared.endsWith(".*")) return action.startsWith(declared.slice(0, -1));
  return declared === action;
}

export function inScope(declared: readonly string[], action: string): boolean {
  return declared.some((s) => scopeCovers(s, action));
}
