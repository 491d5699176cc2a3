/** `30s`, `15m`, `24h`, `7d` → seconds; the same grammar as the origin's `expiring_within`. */
export function parseDurationSeconds(v: string): number | undefined {
  const m = /^([1-9][0-9]{0,6}|0)(s|m|h|d)$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "s" | "m" | "h" | "d"];
}
