/**
 * Parses an IP address literal into its bytes: 4 for IPv4, 16 for IPv6; null for anything else.
 *
 * IPv4 is strict dotted decimal (what resolvers return and WHATWG URL normalises hosts to). A part
 * with a leading zero is refused, not read: inet_aton would read `010` as octal 8, so two parsers
 * could disagree about which host it names.
 *
 * IPv6 is every RFC 4291 §2.2 form: eight groups, `::` compression anywhere, a trailing dotted quad,
 * any case, and an RFC 4007 zone id (`%eth0`), which names an interface, not a different address,
 * so it is dropped.
 */
export function parseIp(text: string): Uint8Array | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

const decimalOctet = /^(0|[1-9][0-9]{0,2})$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!decimalOctet.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  const zone = text.indexOf("%");
  if (zone === text.length - 1) return null;
  const halves = (zone === -1 ? text : text.slice(0, zone)).split("::");
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  // A dotted quad may only end the address: in the head only when nothing follows it.
  const head = groups(halves[0]!, !compressed);
  const tail = compressed ? groups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  // `::` stands for at least one zero group.
  if (compressed ? head.length + tail.length > 7 : head.length !== 8) return null;
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (const [i, g] of all.entries()) {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  return out;
}

/** The 16-bit groups of one side of `::` (empty side: none). */
function groups(side: string, dottedQuadLast: boolean): number[] | null {
  if (side === "") return [];
  const parts = side.split(":");
  const out: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (hexGroup.test(part)) out.push(Number.parseInt(part, 16));
    else if (dottedQuadLast && i === parts.length - 1) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else return null;
  }
  return out;
}
