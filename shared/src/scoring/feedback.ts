import type { MonitorState } from "./state.ts";

/**
 * A human reviewed the events that raised this agent's risk and cleared them: they are normal for
 * this agent. Every scored event was already learned into the baseline when it was scored, so what
 * remains is to stop them counting against the agent: the lingering risk, the escalation runs and
 * the episode (CUSUM) accumulator they built up are reset, and the agent's own exploration rate absorbs the novelty. The one hook
 * the review queue needs from the scorer (AgentMonitor.acceptAsNormal calls it).
 */
export function acceptAsNormal(s: MonitorState, t: number): void {
  s.risk = { score: 0, t: Math.max(s.risk.t, t), reasons: [] };
  s.noveltyRun = 0;
  s.seqRun = 0;
  // The episode accumulator too: sustained evidence from the cleared events must not escalate the next one.
  s.cusum = { s: 0, t: Math.max(s.cusum.t, t) };
  // And the short run of step surprise (sequence_surprise): back to the agent's long-run mean.
  s.seq = { ...s.seq, short: s.seq.mean };
}
