/** The two origin calls the benchmark makes, over real HTTP. Anything but 201 is an error. */
export class OriginClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  /** Registers an agent (not timed by the benchmark) and returns its id. */
  async createAgent(index: number): Promise<string> {
    const body = {
      name: `bench-agent-${index}`,
      model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${"ab".repeat(32)}` },
      owner: { name: "Bench Runner", email: "bench@example.test" },
      scopes: ["orders.*"],
    };
    const json = await this.post("/v1/agents", body);
    const id = typeof json === "object" && json !== null && "data" in json ? readId(json.data) : undefined;
    if (!id) throw new Error(`POST /v1/agents: 201 without data.id`);
    return id;
  }

  /** The timed operation: key generation, CA signature, DB insert, HTTP round trip. */
  async certify(agentId: string): Promise<void> {
    await this.post(`/v1/agents/${agentId}/certify`, undefined);
  }

  /** The local KeyManager's pool from GET /metrics; undefined when the origin exports no pool gauge (older code). */
  async poolStatus(): Promise<PoolStatus | undefined> {
    const res = await fetch(this.baseUrl + "/metrics");
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status} ${text.slice(0, 500)}`);
    const ready = /^kakunin_local_key_pool\{state="ready"\} (\S+)$/m.exec(text)?.[1];
    const target = /^kakunin_local_key_pool\{state="target"\} (\S+)$/m.exec(text)?.[1];
    return ready && target ? { ready: Number(ready), target: Number(target) } : undefined;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.adminKey}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.baseUrl + path, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Read the whole body either way: the latency includes the response a client actually receives.
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as unknown;
  }
}

export interface PoolStatus {
  ready: number;
  target: number;
}

function readId(data: unknown): string | undefined {
  return typeof data === "object" && data !== null && "id" in data && typeof data.id === "string" ? data.id : undefined;
}
