import * as asn1js from "asn1js";
import { desc, eq, sql } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import type { Db } from "../db/index.ts";
import { authorities, rootCrls, tenants } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { x509 } from "../ca/x509.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";

const CRL_NUMBER_OID = "2.5.29.20";
const SKEW_MS = 5 * 60_000;

export type RootCrl = typeof rootCrls.$inferSelect;

/** The newest uploaded root CRL (highest CRL number): what the edge serves at /v1/crl/root in offline-root mode. */
export async function latestRootCrl(db: Db): Promise<RootCrl | undefined> {
  return (await db.select().from(rootCrls).orderBy(desc(rootCrls.crlNumber)).limit(1))[0];
}

function crlNumber(crl: x509.X509Crl): bigint | undefined {
  const ext = crl.extensions.find((e) => e.type === CRL_NUMBER_OID);
  if (!ext) return undefined;
  const parsed = asn1js.fromBER(ext.value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Integer)) return undefined;
  return parsed.result.toBigInt();
}

/**
 * Offline-root mode: the root's CRL (ARL), signed by the operator on the offline machine, uploaded
 * here and forwarded to the edge (/v1/crl/root). Checked: signed by the configured root, current
 * (thisUpdate not in the future, nextUpdate in the future), and a CRL number above the last one
 * (RFC 5280 §5.2.3), so an old CRL can never replace a newer one. Uploading the same CRL again is
 * a no-op. Audited in the operator tenant's log.
 */
export async function uploadRootCrl(s: Services, der: Uint8Array, actor: AuditActor): Promise<Result<{ crl: RootCrl; replayed: boolean }, Failure>> {
  if (!s.ca.offlineRoot) return fail("conflict", "the root's CRL is signed by Kakunin unless the root is offline (KAKUNIN_ROOT_CERT_FILE)");
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(der);
  } catch {
    return fail("invalid-crl", "not a DER or PEM X.509 CRL");
  }
  const root = await s.ca.root();
  if (!root.ok) return keyManagerFailure(root.error);
  const now = s.clock.now();
  if (crl.issuer !== root.value.cert.subject) return fail("invalid-crl", `issuer "${crl.issuer}" is not the root "${root.value.cert.subject}"`);
  if (!(await crl.verify({ publicKey: root.value.cert.publicKey }))) return fail("invalid-crl", "the signature does not verify with the root's key");
  if (!crl.nextUpdate || crl.nextUpdate.getTime() <= now.getTime()) return fail("invalid-crl", "nextUpdate must be present and in the future");
  if (crl.thisUpdate.getTime() > now.getTime() + SKEW_MS) return fail("invalid-crl", "thisUpdate is in the future");
  const n = crlNumber(crl);
  if (n === undefined) return fail("invalid-crl", "the CRL has no CRL number (openssl ca -gencrl with a crlnumber file adds one)");
  const latest = await latestRootCrl(s.db);
  if (latest && n <= latest.crlNumber) {
    if (n === latest.crlNumber && Buffer.compare(Buffer.from(latest.der), Buffer.from(crl.rawData)) === 0) return ok({ crl: latest, replayed: true });
    return fail("conflict", `CRL number ${n} is not above the last uploaded (${latest.crlNumber})`);
  }
  const row = await s.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(rootCrls)
      .values({
        crlNumber: n,
        der: new Uint8Array(crl.rawData),
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate!,
        uploadedAt: now,
      })
      .returning();
    const [operator] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.isOperator, true));
    if (operator) {
      await appendAudit(tx, operator.id, [
        {
          kind: "ca.root_crl_uploaded",
          actor,
          at: now,
          data: {
            crl_number: n.toString(),
            this_update: crl.thisUpdate.toISOString(),
            next_update: crl.nextUpdate!.toISOString(),
            revoked: crl.entries.length,
          },
        },
      ]);
    }
    // The root's CRL rides along with a tenant's CRL publication (publish/records.ts): one suffices.
    const [carrier] = await tx
      .select({ id: authorities.tenantId })
      .from(authorities)
      .where(sql`${authorities.kind} = 'issuing' and ${authorities.status} = 'active'`)
      .limit(1);
    if (carrier?.id) await enqueue(tx, [{ kind: "crl", subject: carrier.id }]);
    return inserted!;
  });
  return ok({ crl: row, replayed: false });
}
