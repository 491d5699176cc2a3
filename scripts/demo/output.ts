/**
 * Terminal output for the demo: numbered steps, indented facts, timings. Colour only on a TTY
 * and only when NO_COLOR is unset or empty (https://no-color.org), so logs and pipes stay plain.
 */
const colourOn = (stream: NodeJS.WriteStream): boolean => Boolean(stream.isTTY) && !process.env.NO_COLOR;
const useColour = colourOn(process.stdout);

const paint = (code: string) => (s: string): string => (useColour ? `\u001b[${code}m${s}\u001b[0m` : s);

export const c = {
  bold: paint("1"),
  dim: paint("2"),
  red: paint("31"),
  green: paint("32"),
  yellow: paint("33"),
  cyan: paint("36"),
};

const BAND_COLOUR: Record<string, (s: string) => string> = { low: c.green, medium: c.yellow, high: c.red };

/** A band name coloured by its severity; anything unexpected is left plain. */
export function band(name: string): string {
  return (BAND_COLOUR[name] ?? ((s: string) => s))(name);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function line(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Facts under a step header, indented so the numbered headers stand out. */
export function detail(text: string): void {
  line(`    ${text}`);
}

export function header(n: number, title: string): void {
  line(`${c.bold(`${String(n).padStart(2)}. ${title}`)}`);
}

export function stepDone(ms: number): void {
  detail(c.dim(`done in ${seconds(ms)}`));
}

/** Failure lines go to stderr, coloured only if stderr itself is a terminal. */
export function failure(text: string): void {
  process.stderr.write(`${colourOn(process.stderr) ? `\u001b[31m${text}\u001b[0m` : text}\n`);
}
