/** RFC 3339 UTC. Whole-second instants (all certificate times) print without a fraction. */
export function rfc3339(d: Date): string;
export function rfc3339(d: Date | null): string | null;
export function rfc3339(d: Date | null): string | null {
  if (!d) return null;
  const s = d.toISOString();
  return s.endsWith(".000Z") ? s.slice(0, -5) + "Z" : s;
}

/** X.509 times have whole seconds; store exactly what the certificate says. */
export function floorToSecond(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
