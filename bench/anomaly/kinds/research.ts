import { inScope } from "@kakunin/shared";
import { END, adoptInChain, type Chain } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, latency, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef,
} from "../model.ts";
import { Zipf, type Rng } from "../../common/rng.ts";
import { ZONES, wakingHours, weekdays } from "../rhythm.ts";

/** Tool catalogue, most popular first; each assistant uses a random slice with a long tail. */
const TOOLS = [
  "web.search", "web.fetch", "llm.summarize", "docs.search", "docs.read", "files.read", "code.run", "notes.write",
  "calc.evaluate", "wiki.lookup", "pdf.extract", "translate.text", "calendar.read", "email.read", "email.draft",
  "github.search", "github.read", "arxiv.search", "sheets.read", "news.search", "slack.search", "slack.read",
  "jira.search", "confluence.read", "maps.lookup", "finance.quote", "images.search", "youtube.transcript",
  "weather.get", "dictionary.lookup", "unit.convert", "charts.render", "sheets.write", "files.write", "notes.search",
];
const DOMAINS = ["en.wikipedia.org", "arxiv.org", "github.com", "stackoverflow.com", "nytimes.com", "reuters.com", "docs.python.org", "developer.mozilla.org", "medium.com", "bbc.co.uk", "nature.com", "gov.uk", "who.int", "ft.com", "techcrunch.com"];

export const research: KindDef = {
  name: "research",
  create(rng): AgentModel {
    const zone = rng.pick(ZONES);
    const n = rng.int(10, 26);
    // Always the basics, then a random long tail from the rest of the catalogue.
    const repertoire = [...TOOLS.slice(0, 3), ...rng.sample(TOOLS.slice(3), n - 3)];
    const pop = new Zipf(repertoire.length, rng.uniform(0.9, 1.4));
    const tool = () => repertoire[pop.draw(rng)] ?? "web.search";
    // A sparse random workflow graph: each tool leads to a handful of others.
    const next: Chain["next"] = {};
    for (const t of repertoire) {
      const w: Record<string, number> = { [END]: rng.uniform(0.05, 0.25) };
      for (let k = rng.int(2, 5); k > 0; k--) { const u = tool(); w[u] = (w[u] ?? 0) + rng.uniform(0.2, 1); }
      next[t] = w;
    }
    next["web.search"] = { ...next["web.search"], "web.fetch": 2 };
    const chain: Chain = { start: { "web.search": 0.5, [repertoire[3]!]: 0.2, [repertoire[4]!]: 0.15, [tool()]: 0.15 }, next };
    const scopes = rng.chance(0.4)
      ? ["*"]
      : [...new Set(repertoire.map((t) => (rng.chance(0.6) ? `${t.split(".")[0]}.*` : t)))];
    const lat = Object.fromEntries(TOOLS.map((t) => [t, rng.lognormal(t.startsWith("llm") ? 3000 : 300, 0.6)]));
    const docs = new Zipf(rng.int(50, 800), 0.9);
    const owner = rng.pick(["alice", "bob", "chen", "dana", "emre", "farah", "gita", "hugo"]);
    const folders = ["notes", "reports", "drafts"];
    // Exfiltration uses whichever data tool the scopes allow: the subtle case is the agent's own tool.
    const exfilAction = ["files.read", "docs.read", "confluence.read", "email.read", "slack.read", "sheets.read"].find((t) => inScope(scopes, t)) ?? "files.read";

    const emit = (action: string, r: Rng): Emitted => {
      const l = latency(r, lat[action] ?? 400, 0.7);
      const ns = action.split(".")[0];
      switch (ns) {
        case "web": return action === "web.fetch"
          ? { type: "api_request", resource: `https://${r.pick(DOMAINS)}/${r.hex(6)}`, latencyMs: l }
          : { type: "api_request", resource: `query:${r.hex(8)}`, latencyMs: l };
        case "docs": case "confluence": return { type: "data_access", resource: `doc:${docs.draw(r)}`, latencyMs: l };
        case "files": return { type: "data_access", resource: `drive:/${owner}/${r.pick(folders)}/${docs.draw(r)}.md`, latencyMs: l };
        case "email": case "calendar": case "slack": return { type: "data_access", resource: `${ns}:${owner}`, latencyMs: l };
        case "github": return { type: "api_request", resource: `repo:${r.pick(["kakunin", "infra", "website", "ml-experiments"])}`, latencyMs: l };
        default: return { type: "tool_call", latencyMs: l };
      }
    };

    const rare = [...repertoire].reverse().find((t) => !t.startsWith("web.") && !t.startsWith("llm."));
    const m: AgentModel = {
      kind: "research",
      profile: `${zone.name}, ${repertoire.length} tools, scopes ${scopes.length === 1 ? "*" : scopes.length}`,
      scopes,
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: wakingHours(rng), weekday: weekdays(rng.uniform(0.2, 0.8)) },
      sessionRate: rng.uniform(0.8, 2.5),
      lanes: 1,
      errorRate: rng.uniform(0.02, 0.05),
      chain,
      session: (r) => chainSession(m, r, 40, (_a, _b, rr) => rr.lognormal(4000, 0.8)),
      emit,
      adoptTool: (t, r) => adoptInChain(m.chain, t, r),
      growResources: (r) => {
        const f = `project-${r.pick(["atlas", "borealis", "cobalt", "delta", "ember"])}`;
        folders.push(f, f);
        return [`drive:/${owner}/${f}/`];
      },
      hooks: {
        amountActions: [],
        sensitive: rare,
        unusedInScope: unusedOf(scopes, repertoire, TOOLS),
        outOfScope: outOfScopeOf(scopes, ["files.delete", "email.send", "calendar.write", ...RISKY_TOOLS]),
        exfil: {
          action: exfilAction, type: "data_access",
          resource: (r) => {
            const ns = exfilAction.split(".")[0];
            if (ns === "files") return `drive:/${r.pick(["finance", "legal", "hr", "exec", "sales"])}/${r.hex(6)}.${r.pick(["docx", "xlsx", "pdf"])}`;
            if (ns === "docs" || ns === "confluence") return `doc:${r.int(1000, 99999)}`;
            return `${ns}:${r.pick(["ceo", "cfo", "legal", "hr", "sales"])}/${r.hex(8)}`;
          },
        },
      },
    };
    return m;
  },
};
