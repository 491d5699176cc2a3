import { checkWorld } from "../world-check.ts";
import { buildWorldE, WORLD_E } from "./world.ts";

/** Sanity check of world E without any scorer (../world-check.ts). `node --import tsx anomaly/world-e/check.ts` from bench/. */
checkWorld(() => buildWorldE(WORLD_E));
