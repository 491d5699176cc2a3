import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { OriginClient } from "./client.ts";
import { runSeries } from "./load.ts";
import { startOrigin, type OriginProcess } from "./origin-process.ts";

export interface Session {
  origin: OriginProcess;
  client: OriginClient;
  /** Certifies the next pre-registered agent; each agent is certified once (a second is 409). */
  certifyNext(): Promise<void>;
}

/**
 * One origin process with its own data dir, plus `agents` agents registered before any timing so
 * registration never lands inside a timed series. `onStarted` hands the process to the caller
 * at once, so cleanup can stop it even if registration fails.
 */
export async function startSession(opts: {
  root: string;
  name: string;
  keyPool?: number;
  mainPath?: string;
  agents: number;
  onStarted(origin: OriginProcess): void;
}): Promise<Session> {
  const adminKey = randomBytes(24).toString("hex");
  const dataDir = join(opts.root, opts.name);
  const origin = await startOrigin({ dataDir, adminKey, keyPool: opts.keyPool, mainPath: opts.mainPath });
  opts.onStarted(origin);
  const client = new OriginClient(origin.baseUrl, adminKey);
  const ids: string[] = [];
  const registered = await runSeries({
    label: "register", count: opts.agents, concurrency: 8, maxMs: 120_000,
    async run(i) {
      ids.push(await client.createAgent(i));
    },
  });
  if (registered.truncated) throw new Error(`registered only ${ids.length} of ${opts.agents} agents in 120 s`);
  let cursor = 0;
  return {
    origin,
    client,
    certifyNext() {
      const id = ids[cursor++];
      if (!id) throw new Error("ran out of pre-registered agents");
      return client.certify(id);
    },
  };
}
