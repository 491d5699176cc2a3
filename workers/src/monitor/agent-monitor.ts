import { DurableObject } from "cloudflare:workers";

/**
 * One per agent: scores behaviour events (issue 5). For now it only proves the binding and its
 * SQLite storage work in workerd.
 */
export class AgentMonitor extends DurableObject<Env> {
  async ping(): Promise<string> {
    return "pong";
  }
}
