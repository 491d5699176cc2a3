/**
 * Characters that steer how text is laid out instead of printing: C0 controls but tab and line
 * breaks, DEL, C1 controls, bidirectional embeddings, overrides and isolates, and the line and
 * paragraph separators. The ingest door and the API refuse them in what people read
 * (PLAIN_LINE_PATTERN, PLAIN_TEXT_PATTERN), but events an older edge accepted, and names and
 * reasons stored before those rules, still hold them: the console and the evidence report show them
 * as `\u202e` text rather than obey them (a U+202E in an action reversed the score printed after
 * it, 0.95 read 59.0). Bidi marks (LRM, RLM, ALM) are not here: right-to-left names need them.
 * The console's tooltip (assets/console.js, a browser script that cannot import this) holds a copy;
 * origin/test/visible-controls-copy.test.ts keeps the two the same.
 */
const STEERING = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;
/** The pattern's source, for the copy check (a shared global RegExp would share its lastIndex). */
export const STEERING_SOURCE = STEERING.source;

/** `text` with each steering character written out as `\uXXXX`. */
export function showControls(text: string): string {
  return text.replace(STEERING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
