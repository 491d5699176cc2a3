/**
 * Scope matching, the same rule the edge applies (a copy: this package has no dependencies):
 * a declared scope is an action (`orders.place`), a prefix wildcard (`orders.*` covers everything
 * under `orders.`), or `*` for everything.
 */
export function scopeCovers(declared: string, action: string): boolean {
  if (declared === "*") return true;
  if (declared.endsWith(".*")) return action.startsWith(declared.slice(0, -1));
  return declared === action;
}

export function inScope(declared: readonly string[], action: string): boolean {
  return declared.some((s) => scopeCovers(s, action));
}
