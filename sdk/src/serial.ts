/**
 * Serial numbers as the edge accepts them: hex, at most 20 octets. Upper case and colons (as
 * `openssl x509 -serial` and many tools print them) are normalised to the canonical lowercase form,
 * so one agent never gets two cache entries.
 */
export function normaliseSerial(raw: string): string | undefined {
  const s = raw.trim().replace(/:/g, "").toLowerCase();
  return /^[0-9a-f]{1,40}$/.test(s) ? s : undefined;
}
