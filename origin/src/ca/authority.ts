import { and, eq } from "drizzle-orm";
import { err, ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION, type Db } from "../db/index.ts";
import { authorities } from "../db/schema.ts";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import type { Clock } from "../clock.ts";
import { appendAudit } from "../audit/append.ts";
import {
  auditExtensions, auditName, BACKDATE_MS, DAY_MS, ISSUING_VALIDITY_DAYS, issuingExtensions, issuingName, ROOT_VALIDITY_DAYS,
  rootExtensions, rootName,
} from "./profiles.ts";
import { newSerial } from "./serial.ts";
import { signCertificate } from "./sign-certificate.ts";
import { x509 } from "./x509.ts";
import { createTrackedKey, discardKey, type KeyDeps, type KeyPurpose, type TrackedKey } from "../lifecycle/keys.ts";

export type AuthorityRecord = typeof authorities.$inferSelect;

/** An authority ready to sign: its row plus the parsed certificate and public key. */
export interface LoadedAuthority {
  record: AuthorityRecord;
  cert: x509.X509Certificate;
  spki: Uint8Array;
}

/**
 * Creates the root and each tenant's issuing CA the first time they are needed, with keys in the
 * KeyManager. Lazy on purpose: with `aws-kms` selected but not configured the origin still starts
 * and answers everything that needs no key (certify then answers 503).
 */
export class CertificateAuthority {
  private rootPromise?: Promise<Result<LoadedAuthority, KeyManagerError>>;
  private readonly issuing = new Map<string, Promise<Result<LoadedAuthority, KeyManagerError>>>();
  private readonly audit = new Map<string, Promise<Result<LoadedAuthority, KeyManagerError>>>();

  constructor(
    private readonly db: Db,
    private readonly keys: KeyManager,
    private readonly clock: Clock,
    private readonly opts: { pendingWindowDays: number } = { pendingWindowDays: 30 },
  ) {}

  private get keyDeps(): KeyDeps {
    return { db: this.db, keys: this.keys, pendingWindowDays: this.opts.pendingWindowDays, now: () => this.clock.now() };
  }

  /** CA keys are tracked like agent keys: intent first, so a crash leaves a findable row. */
  private createKey(purpose: KeyPurpose, tenantId: string | null, label: string) {
    return createTrackedKey(this.keyDeps, { purpose, tenantId, label });
  }

  private async abandon<E>(key: TrackedKey, failure: { ok: false; error: E }): Promise<{ ok: false; error: E }> {
    await discardKey(this.keyDeps, key, "CA signing failed", this.clock.now());
    return failure;
  }

  root(): Promise<Result<LoadedAuthority, KeyManagerError>> {
    // Memoise success only, so a KMS that comes back later is retried.
    this.rootPromise ??= this.loadOrCreateRoot().then((r) => {
      if (!r.ok) this.rootPromise = undefined;
      return r;
    });
    return this.rootPromise;
  }

  issuingFor(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, KeyManagerError>> {
    let p = this.issuing.get(tenant.id);
    if (!p) {
      p = this.loadOrCreateIssuing(tenant).then((r) => {
        if (!r.ok) this.issuing.delete(tenant.id);
        return r;
      });
      this.issuing.set(tenant.id, p);
    }
    return p;
  }

  /** The tenant's tree-head signing key and certificate (issued by its issuing CA), created on first use. */
  auditSignerFor(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, KeyManagerError>> {
    let p = this.audit.get(tenant.id);
    if (!p) {
      p = this.loadOrCreateAudit(tenant).then((r) => {
        if (!r.ok) this.audit.delete(tenant.id);
        return r;
      });
      this.audit.set(tenant.id, p);
    }
    return p;
  }

  private async loadOrCreateAudit(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, KeyManagerError>> {
    const existing = await this.db.select().from(authorities).where(and(eq(authorities.kind, "audit"), eq(authorities.tenantId, tenant.id)));
    if (existing[0]) return ok(loaded(existing[0]));
    const issuing = await this.issuingFor(tenant);
    if (!issuing.ok) return issuing;
    const key = await this.createKey("audit", tenant.id, `kakunin-audit-${tenant.id}`);
    if (!key.ok) return key;
    const now = this.clock.now();
    const serial = newSerial();
    const cert = await signCertificate(this.keys, {
      serial, subject: auditName(tenant.name), issuer: issuing.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: issuing.value.spki,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: issuing.value.cert.notAfter,
      extensions: auditExtensions(), signerRef: issuing.value.record.keyRef,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return this.insertOrReload(cert.value, serial, key.value, tenant.id, "audit");
  }

  /** PEM chain a relying party needs: issuing CA then root (RFC 5246 order, leaf not included). */
  async chainPem(tenant: { id: string; name: string }): Promise<Result<string, KeyManagerError>> {
    const issuing = await this.issuingFor(tenant);
    if (!issuing.ok) return issuing;
    const root = await this.root();
    if (!root.ok) return root;
    return ok(issuing.value.record.certificatePem + root.value.record.certificatePem);
  }

  private async loadOrCreateRoot(): Promise<Result<LoadedAuthority, KeyManagerError>> {
    const existing = await this.db.select().from(authorities).where(eq(authorities.kind, "root"));
    if (existing[0]) return ok(loaded(existing[0]));
    const key = await this.createKey("root", null, "kakunin-root-ca");
    if (!key.ok) return key;
    const now = this.clock.now();
    const name = rootName(newSerial().slice(0, 8));
    const serial = newSerial();
    const cert = await signCertificate(this.keys, {
      serial, subject: name, issuer: name,
      subjectSpki: key.value.publicKeySpki, issuerSpki: key.value.publicKeySpki,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + ROOT_VALIDITY_DAYS * DAY_MS),
      extensions: rootExtensions(), signerRef: key.value.ref,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return this.insertOrReload(cert.value, serial, key.value, null, "root");
  }

  private async loadOrCreateIssuing(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, KeyManagerError>> {
    const existing = await this.db
      .select()
      .from(authorities)
      .where(and(eq(authorities.kind, "issuing"), eq(authorities.tenantId, tenant.id)));
    if (existing[0]) return ok(loaded(existing[0]));
    const root = await this.root();
    if (!root.ok) return root;
    const key = await this.createKey("issuing", tenant.id, `kakunin-issuing-ca-${tenant.id}`);
    if (!key.ok) return key;
    const now = this.clock.now();
    const serial = newSerial();
    const notAfter = Math.min(now.getTime() + ISSUING_VALIDITY_DAYS * DAY_MS, root.value.cert.notAfter.getTime());
    const cert = await signCertificate(this.keys, {
      serial, subject: issuingName(tenant.name), issuer: root.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: root.value.spki,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(notAfter),
      extensions: issuingExtensions(), signerRef: root.value.record.keyRef,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return this.insertOrReload(cert.value, serial, key.value, tenant.id, "issuing");
  }

  /** Two origins racing to create the same CA: the partial unique index picks one, the other reloads. */
  private async insertOrReload(
    cert: x509.X509Certificate, serial: string, key: TrackedKey, tenantId: string | null, kind: "root" | "issuing" | "audit",
  ): Promise<Result<LoadedAuthority, KeyManagerError>> {
    const keyRef = key.ref;
    try {
      const row = await this.db.transaction(async (tx) => {
        const [inserted] = await tx.insert(authorities).values({
          tenantId, kind, serialNumber: serial, subject: cert.subject, certificatePem: cert.toString("pem") + "\n",
          keyRef, notBefore: cert.notBefore, notAfter: cert.notAfter,
        }).returning();
        if (tenantId) {
          await appendAudit(tx, tenantId, [{
            kind: "ca.created", actor: { type: "system", id: "certificate-authority" }, at: this.clock.now(),
            data: { kind, serial_number: serial, subject: cert.subject, key_ref: keyRef, not_before: cert.notBefore.toISOString(), not_after: cert.notAfter.toISOString() },
          }]);
        }
        return inserted!;
      });
      return ok(loaded(row));
    } catch (e) {
      // The losing side of a creation race (or a failed commit): its key will never be used.
      await discardKey(this.keyDeps, key, sqlState(e) === UNIQUE_VIOLATION ? `lost ${kind} CA creation race` : "commit failed", this.clock.now());
      if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
      const where = kind === "root"
        ? eq(authorities.kind, "root")
        : and(eq(authorities.kind, kind), eq(authorities.tenantId, tenantId!));
      const [row] = await this.db.select().from(authorities).where(where);
      if (!row) return err({ code: "failed", message: "authority vanished after a unique violation" });
      return ok(loaded(row));
    }
  }
}

function loaded(record: AuthorityRecord): LoadedAuthority {
  const cert = new x509.X509Certificate(record.certificatePem);
  return { record, cert, spki: new Uint8Array(cert.publicKey.rawData) };
}
