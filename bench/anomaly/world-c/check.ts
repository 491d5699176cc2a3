import { matchesScope } from "./model.ts";
import { ARCHETYPES } from "./archetypes.ts";
import { buildWorldC, WORLD_C } from "./world.ts";
import { checkWorld } from "../world-check.ts";

/**
 * Sanity check of world C without any scorer (../world-check.ts: determinism, schema, ids, order,
 * scopes, sizes), plus world C's own archetype tables: every attack tool out of scope, every tool
 * its normal work, benign surprises and dormant-tool attacks use in scope.
 * `node --import tsx anomaly/world-c/check.ts` from bench/.
 */
checkWorld(() => buildWorldC(WORLD_C));
for (const arch of ARCHETYPES) {
  for (const x of arch.outOfScope)
    if (matchesScope(arch.scopes, x)) {
      console.log(`SCOPE BUG ${arch.name}: ${x} is in scope`);
      process.exitCode = 1;
    }
  for (const x of [...arch.discover, ...arch.unused.map((u) => u.action), arch.rare.action, arch.newStep.action, arch.replace.to])
    if (!matchesScope(arch.scopes, x)) {
      console.log(`SCOPE BUG ${arch.name}: ${x} not in scope`);
      process.exitCode = 1;
    }
}
