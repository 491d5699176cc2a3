/** The whole story in order. Returns which step broke instead of throwing: main decides what to print. */
import type { Ctx } from "./context.ts";
import { attack, behaveNormally, revocation } from "./behaviour.ts";
import { certify, register, verifyActive } from "./enrol.ts";
import { exportEvidence, verifyEvidence } from "./evidence.ts";
import { writeReport } from "./report.ts";
import { gatewayCheck } from "./gateway.ts";
import type { Launcher } from "./launcher.ts";
import { c } from "./output.ts";
import type { Failed, Runner } from "./runner.ts";

export interface StoryOptions {
  run: Runner;
  launcher: Launcher;
  root: string;
  dataDir: string;
  adminKey: string;
}

export type StoryResult = { ok: true; steps: number; evidenceFile: string; reportFile: string } | { ok: false; failed: Failed };

const START_TIMEOUT_MS = 45_000;

async function start(o: StoryOptions): Promise<Ctx> {
  return o.run.step("Start the system on embedded defaults", async (say) => {
    const planned = await o.launcher.plan();
    say(`origin ${planned.origin.url}, edge ${planned.edge.url}, data ${o.dataDir}`);
    const s = await o.launcher.waitHealthy(START_TIMEOUT_MS);
    if (!s.ok) throw new Error(s.error);
    return {
      value: { run: o.run, root: o.root, dataDir: o.dataDir, adminKey: o.adminKey, origin: s.origin, edge: s.edge },
      facts: [
        `origin (Node): PGlite database, local key manager, fresh root and issuing CA, local audit archive`,
        `edge (wrangler dev / workerd): KV status records, one Durable Object per agent for scoring`,
      ],
    };
  });
}

export async function runStory(o: StoryOptions): Promise<StoryResult> {
  try {
    const ctx = await start(o);
    const agent = await register(ctx);
    const { cert, certifiedAt } = await certify(ctx, agent);
    const notBefore = await verifyActive(ctx, cert, certifiedAt);
    await gatewayCheck(ctx, agent, cert);
    const normal = await behaveNormally(ctx, agent, notBefore);
    const burst = await attack(ctx, normal.token);
    await revocation(ctx, agent, cert, normal.token, burst);
    const exported = await exportEvidence(ctx, agent, normal.accepted + burst.accepted);
    await verifyEvidence(ctx, exported);
    const reportFile = await writeReport(ctx, exported);
    return { ok: true, steps: o.run.count(), evidenceFile: exported.file, reportFile };
  } catch (e) {
    // A throw outside any step (none today) still reports, as step 0.
    return { ok: false, failed: o.run.failed() ?? { step: 0, title: "setup", message: e instanceof Error ? e.message : String(e) } };
  }
}

export const TITLE = `${c.bold("Kakunin")} — identity, verification and audit for an AI agent, end to end`;
