import { errorFields, exitLogger, type Logger } from "./observability/logger.ts";

/** Something running that must finish (or give up) before the database closes. */
export interface Stoppable {
  name: string;
  stop(): Promise<void> | void;
}

export interface ShutdownOptions {
  /** Closing it refuses new connections; its callback runs once the requests under way are answered. */
  server: { close(callback: () => void): unknown };
  /** Background jobs; each stop() waits for the pass under way. */
  jobs: Stoppable[];
  /** Closes the database and the key manager: only after every job and request is done. */
  close(): Promise<void>;
  log: Logger;
  /** After this the process exits anyway, with status 1 and a line naming what was still running. */
  graceMs: number;
  /**
   * How long the origin keeps serving, not ready, before it closes (0: close at once). Load
   * balancers route by /readyz: this is how long they have to see the 503 and stop sending.
   */
  drainMs: number;
  /** Marks the origin as draining: /readyz answers 503 from now on, and every answer closes its connection. */
  drain(): void;
  exit(code: number): void;
}

/**
 * A SIGTERM or SIGINT: turn not ready (/readyz 503) and, for drainMs, keep serving so a load
 * balancer sees it and stops sending; then stop taking requests and stop every background job at once, wait for the
 * requests and passes under way to finish and record their outcome, then close the database.
 * Jobs used to be stopped only after the last HTTP connection closed, and the process exited 5 s
 * after the signal with status 0 whatever was still running: a webhook send (up to
 * KAKUNIN_WEBHOOK_TIMEOUT_MS, 10 s) the receiver acknowledged was never written down, and the
 * restarted origin found it pending under the dead process's lease and sent it again a minute later.
 */
export function shutdownOnSignal(o: ShutdownOptions): (signal: string) => void {
  let stopping = false;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = stopNow(o);
  return (signal) => {
    if (stopping) {
      // A second signal (a second Ctrl-C, an impatient supervisor) cuts the drain short.
      if (drainTimer !== undefined) {
        clearTimeout(drainTimer);
        drainTimer = undefined;
        stop(signal);
      }
      return;
    }
    stopping = true;
    // Not ready at once, whatever follows: before 2026-12-07 /readyz kept answering 200 on open
    // connections until they closed, and with no drain step a load balancer kept sending new
    // requests to a listener that had just closed (test/origin-shutdown-drain.test.ts).
    o.drain();
    if (o.drainMs <= 0) return stop(signal);
    o.log.info("draining", { event: "draining", signal, drain_ms: o.drainMs });
    drainTimer = setTimeout(() => {
      drainTimer = undefined;
      stop(signal);
    }, o.drainMs);
  };
}

/** Closes the listener, stops the jobs and the database, within graceMs. */
function stopNow(o: ShutdownOptions): (signal: string) => void {
  return (signal) => {
    const running = new Set<string>(["http", ...o.jobs.map((j) => j.name)]);
    o.log.info("shutting down", { event: "shutting_down", signal, grace_ms: o.graceMs });
    const timer = setTimeout(() => {
      // On stderr, where a supervisor looks for why a process ended badly.
      exitLogger("origin").error(`shutdown did not finish within ${o.graceMs} ms; exiting with work still running`, {
        event: "shutdown_timed_out",
        signal,
        still_running: [...running].join(","),
      });
      o.exit(1);
    }, o.graceMs);
    timer.unref?.();
    const http = new Promise<void>((resolve) => o.server.close(() => resolve())).then(() => void running.delete("http"));
    const jobs = o.jobs.map((j) =>
      Promise.resolve()
        .then(() => j.stop())
        .then(() => void running.delete(j.name)),
    );
    void Promise.all([http, ...jobs])
      .then(() => o.close())
      .then(
        () => {
          clearTimeout(timer);
          o.log.info("stopped", { event: "stopped", signal });
          o.exit(0);
        },
        (e: unknown) => {
          clearTimeout(timer);
          exitLogger("origin").error("shutdown failed", { event: "shutdown_failed", signal, ...errorFields(e) });
          o.exit(1);
        },
      );
  };
}
