/** Writes an issued certificate's PEM for `certify --out` and `renew --out`. */
import { writeFile } from "node:fs/promises";
import { IoError } from "./io.ts";

export interface IssuedPem {
  id: string;
  serial_number: string;
  certificate_pem: string;
}

/**
 * The certificate already exists when this runs, so a failed write must say so: otherwise the user
 * would certify again and hit 409, or renew again and replace the successor they never saved.
 */
export async function savePem(out: string | undefined, c: IssuedPem): Promise<string> {
  if (out === undefined) return "(use --out FILE to save it)";
  try {
    await writeFile(out, c.certificate_pem);
  } catch (e) {
    throw new IoError(`certificate ${c.id} (serial ${c.serial_number}) was issued, but writing ${out} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return `written to ${out}`;
}
