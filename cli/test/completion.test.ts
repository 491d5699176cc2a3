import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/commands/index.ts";
import { kakunin } from "./support/run.ts";

// `kakunin completion bash|zsh|fish`, printed by the real CLI; the bash script is sourced into a
// real bash and its completion function asked what it completes.
const dir = mkdtempSync(join(tmpdir(), "kakunin-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scripts: Record<string, string> = {};
const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;

beforeAll(async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await kakunin({}, "completion", shell);
    expect(r.code, r.stderr).toBe(0);
    scripts[shell] = join(dir, `kakunin.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
});

/** What bash completes for the words typed so far (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const script = `source ${JSON.stringify(scripts.bash)}
COMP_WORDS=(kakunin ${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length}
_kakunin
printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["--norc", "--noprofile", "-c", script], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
}

describe("bash completion", () => {
  it("registers itself for `kakunin` when sourced", () => {
    const out = execFileSync("bash", ["--norc", "--noprofile", "-c", `source ${JSON.stringify(scripts.bash)}; complete -p kakunin`], { encoding: "utf8" });
    expect(out).toContain("-F _kakunin");
  });

  it("completes commands, groups and their subcommands", () => {
    expect(complete("ag")).toEqual(["agents"]);
    expect(complete("c")).toEqual(["ca", "certify", "completion", "credentials"]);
    expect(complete("agents", "")).toEqual(["create", "get", "list", "retire"]);
    expect(complete("audit", "v")).toEqual(["verify"]);
    expect(complete("completion", "")).toEqual(["bash", "fish", "zsh"]);
  });

  it("completes every command's options from its own option table", () => {
    for (const c of COMMANDS) {
      const s = c.spec;
      const expected = [...(s.strings ?? []), ...(s.lists ?? []), ...(s.booleans ?? []), "help"].map((o) => `--${o}`).sort();
      expect(complete(...c.name.split(" "), "--"), c.name).toEqual(expected);
    }
    expect(complete("verify", "--js")).toEqual(["--json"]);
  });

  it("refuses an unknown shell with exit 2", async () => {
    const r = await kakunin({}, "completion", "tcsh");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh or fish");
  });
});

describe("zsh and fish completion", () => {
  it("are generated from the same table", () => {
    expect(scripts.zsh).toBeDefined();
    const zsh = execFileSync("cat", [scripts.zsh!], { encoding: "utf8" });
    const fish = execFileSync("cat", [scripts.fish!], { encoding: "utf8" });
    expect(zsh.startsWith("#compdef kakunin\n")).toBe(true);
    for (const c of COMMANDS) {
      const opt = `--${c.spec.strings?.[0] ?? c.spec.booleans?.[0] ?? "help"}`;
      expect(zsh, c.name).toContain(opt);
      expect(fish, c.name).toContain(`-l ${opt.slice(2)}`);
    }
  });

  // The shells themselves (installed by scripts/install-system-deps.sh; skipped where missing).
  it.skipIf(!has("zsh"))("zsh parses its script and registers _kakunin for kakunin after compinit", () => {
    expect(spawnSync("zsh", ["-n", scripts.zsh!]).status).toBe(0);
    const home = mkdtempSync(join(dir, "zdot-"));
    const r = spawnSync(
      "zsh",
      ["-f", "-c", `autoload -U compinit && compinit -u -d ${home}/.zcompdump && source ${JSON.stringify(scripts.zsh)} && print -r -- $_comps[kakunin]`],
      { encoding: "utf8" },
    );
    expect(r.stdout.trim(), r.stderr).toBe("_kakunin");
  });
  it.skipIf(!has("fish"))("fish completes commands, subcommands and options (complete -C)", () => {
    const ask = (line: string) =>
      spawnSync("fish", ["--no-config", "-c", `source ${JSON.stringify(scripts.fish)}; complete -C ${JSON.stringify(line)}`], { encoding: "utf8" })
        .stdout.split("\n")
        .map((l) => l.split("\t")[0]!)
        .filter(Boolean)
        .sort();
    expect(ask("kakunin ag")).toEqual(["agents"]);
    expect(ask("kakunin agents ")).toEqual(["create", "get", "list", "retire"]);
    expect(ask("kakunin verify --js")).toEqual(["--json"]);
    expect(ask("kakunin audit verify --js")).toEqual(["--json"]);
  });
});
