import { checkWorld } from "../world-check.ts";
import { buildWorldG, WORLD_G } from "./world.ts";

/** Sanity check of world G without any scorer (../world-check.ts). `node --import tsx anomaly/world-g/check.ts` from bench/. */
checkWorld(() => buildWorldG(WORLD_G));
