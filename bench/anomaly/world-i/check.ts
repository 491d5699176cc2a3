import { checkWorld } from "../world-check.ts";
import { buildWorldI, WORLD_I } from "./world.ts";

/** Sanity check of world I without any scorer (../world-check.ts). `node --import tsx anomaly/world-i/check.ts` from bench/. */
checkWorld(() => buildWorldI(WORLD_I));
