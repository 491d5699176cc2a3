import { checkWorld } from "../world-check.ts";
import { buildWorldD, WORLD_D } from "./world.ts";

/** Sanity check of world D without any scorer (../world-check.ts). `node --import tsx anomaly/world-d/check.ts` from bench/. */
checkWorld(() => buildWorldD(WORLD_D));
