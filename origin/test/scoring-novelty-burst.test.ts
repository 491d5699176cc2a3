import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const DAY = 86_400_000;
const SCOPES = ["screening.*", "alerts.*", "cases.*", "registry.*"];
const TOOLS = ["screening.screen_party", "alerts.open", "alerts.close", "cases.note"];

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string): ScoredInput {
  return { id, ts, type: "tool_call", action, resource: `parties/p${id.length}`, outcome: "success" };
}

/** Three weeks of a screening agent's weekdays: four tools, about 40 events a day, nothing new. */
function history(s: MonitorState): number {
  const r = rng(5);
  let n = 0;
  for (let day = 0; day < 21; day++) {
    if (day % 7 >= 5) continue;
    let t = T0 + day * DAY;
    for (let i = 0; i < 40; i++) scoreEvent(s, ev(`h${n++}`, (t += 600_000 + Math.floor(r() * 300_000)), TOOLS[Math.floor(r() * TOOLS.length)]!), SCOPES);
  }
  return n;
}

const novelty = (x: Score) => x.event.reasons.find((q) => q.feature === "action_novelty")?.contribution ?? 0;

describe("a burst of never-used tools (tool discovery)", () => {
  it("each first use is judged against the agent's history, not against the burst's own first uses", () => {
    const s = newState();
    history(s);
    // Monday after: nine in-scope tools the agent has never used, one every 90 s.
    let t = T0 + 21 * DAY + 2 * 3_600_000;
    const burst: Score[] = [];
    for (let k = 0; k < 9; k++) burst.push(scoreEvent(s, ev(`x${k}`, (t += 90_000), `registry.tool_${k}`), SCOPES));
    const first = novelty(burst[0]!);
    expect(first).toBeGreaterThan(0.3);
    // Before, the burst taught itself that a new tool is ordinary: the ninth read 1 in 30 where the
    // first read 1 in 500 (singletons and the new-tool rate both counted the burst's own tools).
    for (const b of burst) expect(novelty(b)).toBeGreaterThan(0.8 * first);
    expect(burst.some((b) => b.risk.band === "high")).toBe(true);
  });

  it("new tools an hour and more apart still become the agent's ordinary rate of novelty", () => {
    const s = newState();
    history(s);
    // One new tool every two hours for a week of working days: the rate learns them.
    let t = T0 + 21 * DAY;
    const out: Score[] = [];
    for (let k = 0; k < 20; k++) out.push(scoreEvent(s, ev(`y${k}`, (t += 2 * 3_600_000), `registry.new_${k}`), SCOPES));
    expect(novelty(out.at(-1)!)).toBeLessThan(novelty(out[0]!));
    expect(out.every((x) => x.risk.band !== "high")).toBe(true);
  });
});
