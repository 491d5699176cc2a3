/** `kakunin completion bash|zsh|fish`: prints a completion script for the shell. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { completionScript, SHELLS, type Shell } from "../completion-scripts.ts";
import { helpText } from "../help-text.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { COMMANDS } from "./index.ts";

const synopsis = "completion bash|zsh|fish";

const help = helpText(
  synopsis,
  `
Prints a shell completion script for commands, subcommands and each command's options (file
names for the rest). Load it in the current shell:
  bash:  source <(kakunin completion bash)
  zsh:   source <(kakunin completion zsh)        (after compinit)
  fish:  kakunin completion fish | source
or install it once: bash ~/.local/share/bash-completion/completions/kakunin, zsh a file named
_kakunin on $fpath, fish ~/.config/fish/completions/kakunin.fish.`,
  [],
  "Exit codes: 0 ok, 2 unknown shell.",
);

export const completion: Command = {
  name: "completion",
  synopsis,
  summary: "print a shell completion script (bash, zsh or fish)",
  help,
  spec: { positionals: ["shell"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const shell = a.req("shell");
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion: unknown shell ${JSON.stringify(shell)} (bash, zsh or fish)`, help);
    // COMMANDS is read at run time: this module is part of that list (an import cycle by design).
    io.out(completionScript(shell as Shell, COMMANDS));
    return EXIT.ok;
  },
};
