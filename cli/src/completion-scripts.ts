/**
 * Shell completion scripts for `kakunin completion bash|zsh|fish`, generated from the command
 * table itself (names, groups, each command's options), so a new command or flag completes
 * without anyone editing a script. Positionals complete as file names (most are paths or ids).
 */
import type { Command } from "./command.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

interface Tree {
  top: string[];
  groups: Map<string, string[]>;
  /** Command name (`agents create`, `verify`) → its options (`--name`, ...). */
  options: Map<string, string[]>;
}

/** Words that are not commands in COMMANDS but that main.ts answers. */
const EXTRA_TOP = ["help", "--help", "--version"];

function tree(commands: readonly Command[]): Tree {
  const groups = new Map<string, string[]>();
  const top: string[] = [];
  const options = new Map<string, string[]>();
  for (const c of commands) {
    const [first, second] = c.name.split(" ") as [string, string | undefined];
    if (second) {
      if (!groups.has(first)) {
        groups.set(first, []);
        top.push(first);
      }
      groups.get(first)!.push(second);
    } else top.push(first);
    const s = c.spec;
    options.set(
      c.name,
      [...(s.strings ?? []), ...(s.lists ?? []), ...(s.booleans ?? []), "help"].map((o) => `--${o}`),
    );
  }
  return { top: [...top, ...EXTRA_TOP], groups, options };
}

/** Single-quoted for POSIX shells (the words are [a-z-] today; quoting keeps it safe regardless). */
const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function bash(t: Tree): string {
  const groupCases = [...t.groups]
    .map(
      ([g, subs]) =>
        `    ${g})\n      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=( $(compgen -W ${q(subs.join(" "))} -- "$cur") ); return 0; fi\n      cmd="${g} \${COMP_WORDS[2]}" ;;`,
    )
    .join("\n");
  const optionCases = [...t.options].map(([c, opts]) => `      ${q(c)}) opts=${q(opts.join(" "))} ;;`).join("\n");
  return `# bash completion for kakunin. Load it with:  source <(kakunin completion bash)
# or install it:  kakunin completion bash > ~/.local/share/bash-completion/completions/kakunin
_kakunin() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" opts=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${q(t.top.join(" "))} -- "$cur") )
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
${groupCases}
    completion)
      if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then COMPREPLY=( $(compgen -W 'bash zsh fish' -- "$cur") ); return 0; fi ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${optionCases}
    esac
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
    return 0
  fi
  # Positionals and option values: file names (readline's default, via -o default).
  return 0
}
complete -o default -F _kakunin kakunin
`;
}

function zsh(t: Tree): string {
  const groupCases = [...t.groups]
    .map(([g, subs]) => `    ${g})\n      if (( CURRENT == 3 )); then compadd -- ${subs.join(" ")}; return; fi\n      cmd="${g} $words[3]" ;;`)
    .join("\n");
  const optionCases = [...t.options].map(([c, opts]) => `      ${q(c)}) opts=(${opts.join(" ")}) ;;`).join("\n");
  return `#compdef kakunin
# zsh completion for kakunin. Load it with:  source <(kakunin completion zsh)
# or install it as _kakunin in a directory on $fpath.
_kakunin() {
  local cmd="$words[2]"
  local -a opts
  if (( CURRENT == 2 )); then
    compadd -- ${t.top.join(" ")}
    return
  fi
  case "$words[2]" in
${groupCases}
    completion)
      if (( CURRENT == 3 )) && [[ "$PREFIX" != -* ]]; then compadd -- bash zsh fish; return; fi ;;
  esac
  if [[ "$PREFIX" == -* ]]; then
    case "$cmd" in
${optionCases}
    esac
    compadd -- $opts
    return
  fi
  _files
}
if [[ "$funcstack[1]" == "_kakunin" ]]; then
  _kakunin "$@"
else
  compdef _kakunin kakunin
fi
`;
}

function fish(t: Tree): string {
  const lines = [
    "# fish completion for kakunin. Load it with:  kakunin completion fish | source",
    "# or install it:  kakunin completion fish > ~/.config/fish/completions/kakunin.fish",
    "complete -c kakunin -f",
    `complete -c kakunin -n __fish_use_subcommand -a ${q(t.top.filter((w) => !w.startsWith("-")).join(" "))}`,
    "complete -c kakunin -n __fish_use_subcommand -l version -d 'print the version'",
    "complete -c kakunin -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'",
  ];
  for (const [g, subs] of t.groups) {
    lines.push(
      `complete -c kakunin -n ${q(`__fish_seen_subcommand_from ${g}; and not __fish_seen_subcommand_from ${subs.join(" ")}`)} -a ${q(subs.join(" "))}`,
    );
  }
  for (const [c, opts] of t.options) {
    const [first, second] = c.split(" ");
    // `verify` alone is not `audit verify`: a single command's condition excludes every group.
    const cond = second
      ? `__fish_seen_subcommand_from ${first}; and __fish_seen_subcommand_from ${second}`
      : `__fish_seen_subcommand_from ${first}; and not __fish_seen_subcommand_from ${[...t.groups.keys()].join(" ")}`;
    for (const o of opts) lines.push(`complete -c kakunin -n ${q(cond)} -l ${o.slice(2)}`);
    // Positionals are mostly files: offer them once a command is chosen.
    lines.push(`complete -c kakunin -n ${q(cond)} -F`);
  }
  return `${lines.join("\n")}\n`;
}

export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const t = tree(commands);
  return shell === "bash" ? bash(t) : shell === "zsh" ? zsh(t) : fish(t);
}
