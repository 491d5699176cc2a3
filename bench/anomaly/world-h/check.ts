import { checkWorld } from "../world-check.ts";
import { buildWorldH, WORLD_H } from "./world.ts";

/** Sanity check of world H without any scorer (../world-check.ts). `node --import tsx anomaly/world-h/check.ts` from bench/. */
checkWorld(() => buildWorldH(WORLD_H));
