import { checkWorld } from "../world-check.ts";
import { buildWorldF, WORLD_F } from "./world.ts";

/** Sanity check of world F without any scorer (../world-check.ts). `node --import tsx anomaly/world-f/check.ts` from bench/. */
checkWorld(() => buildWorldF(WORLD_F));
