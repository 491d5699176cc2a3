/**
 * Text for a terminal, with every character that steers it instead of printing shown as a visible
 * `\uXXXX` escape: C0 controls other than newline and tab (ESC starts the sequences that clear the
 * screen, move the cursor or hide text; a carriage return overwrites a line), DEL, the C1 controls
 * (U+009B is a one-character CSI), and the bidirectional marks and overrides that reorder what is
 * shown, and the line and paragraph separators U+2028/U+2029 (a new line in some terminals and in
 * anything that renders the copied text, so a one-line name stored before they were refused could
 * print a forged second line). A tampered bundle, an agent's event fields or an issuer's names reach the CLI's output;
 * before this, a bundle could print a genuine VERIFIED screen over its own FAILED verdict.
 * In JSON output the same escape is JSON's own, so `--json` parses to the same values.
 */
const STEERING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(STEERING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
