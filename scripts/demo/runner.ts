/**
 * Numbered steps: a header when a step starts, its facts and time when it ends. A step signals a
 * broken story by throwing StepFailure (or anything else); the runner names the step it was in.
 */
import { type Answer, describeAnswer } from "./http.ts";
import { detail, header, stepDone } from "./output.ts";

export class StepFailure extends Error {}

/** Which step broke, and why: what main prints before the logs. */
export interface Failed {
  step: number;
  title: string;
  message: string;
}

export interface Step<T> {
  value: T;
  facts: string[];
}

export interface Runner {
  /** `say` prints a fact at once (e.g. the ports while the system is still starting). */
  step<T>(title: string, run: (say: (fact: string) => void) => Promise<Step<T>>): Promise<T>;
  /** Set when a step threw: the runner has already stopped printing it. */
  failed(): Failed | undefined;
  count(): number;
}

export function createRunner(): Runner {
  let n = 0;
  let broken: Failed | undefined;
  return {
    async step(title, run) {
      n += 1;
      header(n, title);
      const t0 = performance.now();
      try {
        const { value, facts } = await run(detail);
        for (const f of facts) detail(f);
        stepDone(performance.now() - t0);
        return value;
      } catch (e) {
        broken = { step: n, title, message: e instanceof Error ? e.message : String(e) };
        throw e;
      }
    },
    failed: () => broken,
    count: () => n,
  };
}

export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new StepFailure(message);
}

/** The body of an answer with the expected status; anything else fails the step, naming the call. */
export function expectStatus<T>(a: Answer<T>, status: number, what: string): T {
  if (a.status !== status) throw new StepFailure(`${what}: expected ${status}, got ${describeAnswer(a)}`);
  return a.body;
}

/** Polls until `probe` yields a value; past the timeout the step fails, saying what never showed. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: { timeoutMs: number; everyMs: number; what: string }): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new StepFailure(`${opts.what}: not seen within ${opts.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}
