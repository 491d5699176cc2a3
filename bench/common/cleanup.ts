/**
 * Everything the run starts (processes, temp dirs) registers how to undo itself here, so a
 * failure, Ctrl-C or SIGTERM halfway through leaves nothing behind.
 */
type Undo = () => Promise<void> | void;

const stack: Undo[] = [];
let running: Promise<void> | undefined;

export function onCleanup(undo: Undo): void {
  stack.push(undo);
}

/** Undoes in reverse order of registration; safe to call more than once. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (stack.length > 0) {
      const undo = stack.pop();
      try {
        await undo?.();
      } catch (e) {
        console.error(`cleanup step failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  })();
  return running;
}

export function installSignalHandlers(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes and removing temp dirs`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
