/**
 * Scope matching, as the design defines it: a declared scope is an action (`orders.place`), a
 * prefix wildcard (`orders.*` covers everything under `orders.`), or `*` for everything. The one
 * definition lives in the gateway SDK (`@kakunin/verify/rules`, no dependencies), which gateways
 * run too; the edge and the origin get it from here.
 */
export { inScope, scopeCovers } from "@kakunin/verify/rules";
