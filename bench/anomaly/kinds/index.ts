import type { KindDef } from "../model.ts";
import { devops } from "./devops.ts";
import { hr } from "./hr.ts";
import { payments } from "./payments.ts";
import { pipeline } from "./pipeline.ts";
import { research } from "./research.ts";
import { support } from "./support.ts";
import { trading } from "./trading.ts";

export const KINDS: Record<string, KindDef> = {
  trading, support, pipeline, payments, research, devops, "hr-assistant": hr,
};
