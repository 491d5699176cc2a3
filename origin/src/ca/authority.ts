import { and, desc, eq } from "drizzle-orm";
import { err, kakuninOids, ok, type KakuninOids, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION, type Db, type Queryable } from "../db/index.ts";
import { authorities } from "../db/schema.ts";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import type { Clock } from "../clock.ts";
import {
  auditExtensions, auditName, BACKDATE_MS, DAY_MS, ISSUING_VALIDITY_DAYS, issuingExtensions, issuingName, ROOT_VALIDITY_DAYS,
  rootExtensions, rootName,
} from "./profiles.ts";
import { newSerial } from "./serial.ts";
import { signVerified } from "../kms/verified-sign.ts";
import { signCertificate } from "./sign-certificate.ts";
import { issuingPkiUrls } from "./urls.ts";
import { x509 } from "./x509.ts";
import { signCsr } from "./csr.ts";
import { storedSerial } from "./check-issuing.ts";
import { caNotReady, OFFLINE_ROOT_KEY_REF, parseOfflineRoot, type CaNotReady } from "./offline-root.ts";
import { createTrackedKey, discardKey, type KeyDeps, type KeyPurpose, type TrackedKey } from "../lifecycle/keys.ts";

export type AuthorityRecord = typeof authorities.$inferSelect;

/** A CA the authority created (root, issuing CA, tree-head signer), told to the layer above. */
export interface AuthorityCreated {
  tenantId: string | null;
  kind: "root" | "issuing" | "tree_head_signer";
  serialNumber: string;
  subject: string;
  keyRef: string;
  notBefore: Date;
  notAfter: Date;
  at: Date;
}

/**
 * Called inside the transaction that stores a new authority, so its record (the audit entry,
 * lifecycle/ca-created-audit.ts) commits or rolls back with it. Injected: the CA layer does not
 * know about audit.
 */
export type OnAuthorityCreated = (tx: Queryable, created: AuthorityCreated) => Promise<void>;

/** Why the CA could not produce an authority: the KeyManager failed, or (offline root) it is not set up yet. */
export type CaError = KeyManagerError | CaNotReady;

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
  private rootPromise?: Promise<Result<LoadedAuthority, CaError>>;
  private readonly issuing = new Map<string, Promise<Result<LoadedAuthority, CaError>>>();
  private readonly audit = new Map<string, Promise<Result<LoadedAuthority, CaError>>>();

  constructor(
    private readonly db: Db,
    private readonly keys: KeyManager,
    private readonly clock: Clock,
    readonly oids: KakuninOids = kakuninOids(),
    /** Written into issuing-CA certificates (AIA caIssuers, CDP); see ./urls.ts. */
    private readonly publicEdgeUrl?: string,
    /** `offlineRootPem`: offline-root mode (KAKUNIN_ROOT_CERT_FILE); the root's key is never here. */
    private readonly opts: { pendingWindowDays: number; offlineRootPem?: string; onCreated?: OnAuthorityCreated } = { pendingWindowDays: 30 },
  ) {}

  /** Offline-root mode: issuing CAs come from a CSR signed outside Kakunin (docs/ca-lifecycle.md). */
  get offlineRoot(): boolean {
    return this.opts.offlineRootPem !== undefined;
  }

  private get keyDeps(): KeyDeps {
    return { db: this.db, keys: this.keys, pendingWindowDays: this.opts.pendingWindowDays, now: () => this.clock.now() };
  }

  /** CA keys are tracked like agent keys: intent first, so a crash leaves a findable row. */
  private createKey(purpose: KeyPurpose, tenantId: string | null, label: string) {
    return createTrackedKey(this.keyDeps, { purpose, tenantId, label });
  }

  /**
   * A CA key whose certificate will carry the public key KMS returned, proven to be the key KMS
   * signs with: one signature, verified under that public key. Without it, a backend that answered
   * GetPublicKey with another key's SPKI (a faulty HSM, key-id confusion) got an issuing CA or
   * tree-head signer stored whose every signature fails: the tenant could issue nothing until a
   * rollover. (The root and an offline-root request prove this already: they sign themselves.)
   */
  private async createProvenKey(purpose: KeyPurpose, tenantId: string | null, label: string) {
    const key = await this.createKey(purpose, tenantId, label);
    if (!key.ok) return key;
    const proof = await signVerified(this.keys, key.value.ref, new TextEncoder().encode(`kakunin key possession ${key.value.intentId}`), key.value.publicKeySpki);
    if (!proof.ok) return this.abandon(key.value, proof);
    return key;
  }

  private async abandon<E>(key: TrackedKey, failure: { ok: false; error: E }): Promise<{ ok: false; error: E }> {
    await discardKey(this.keyDeps, key, "CA signing failed", this.clock.now());
    return failure;
  }

  root(): Promise<Result<LoadedAuthority, CaError>> {
    // Memoise success only, so a KMS that comes back later is retried, and so is a database that
    // threw (a load that rejects was kept, and every later call failed until a restart).
    this.rootPromise ??= forgettingFailure(this.loadOrCreateRoot(), (p) => {
      if (this.rootPromise === p) this.rootPromise = undefined;
    });
    return this.rootPromise;
  }

  /**
   * The tenant's active issuing CA. The loaded CA (parsed certificate, key ref) is memoised, but
   * every call checks it is still the active one with one lookup on the partial unique index
   * (`authorities_one_issuing_per_tenant`): another origin on the same database may have rolled
   * it over, and certificates must come from the CA the database names, not from a stale copy.
   */
  issuingFor(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, CaError>> {
    return this.memoised(this.issuing, tenant.id, (a) => a.record.id, () => this.loadOrCreateIssuing(tenant));
  }

  /**
   * A tenant's memoised authority while it still belongs to the active issuing CA (`issuedBy` names
   * the issuing CA it is or hangs under; one indexed lookup per call), else loaded afresh. A load
   * that fails is not remembered, and concurrent callers share one load.
   */
  private async memoised(
    memo: Map<string, Promise<Result<LoadedAuthority, CaError>>>,
    tenantId: string,
    issuedBy: (a: LoadedAuthority) => string | null,
    load: () => Promise<Result<LoadedAuthority, CaError>>,
  ): Promise<Result<LoadedAuthority, CaError>> {
    const held = memo.get(tenantId);
    if (held) {
      const r = await held;
      if (r.ok && (await this.activeIssuingId(tenantId)) === issuedBy(r.value)) return r;
      if (memo.get(tenantId) === held) memo.delete(tenantId);
    }
    let p = memo.get(tenantId);
    if (!p) {
      // Neither a failure returned nor one thrown (a database error, the ca.created entry refused
      // with its authority) is remembered: a rejected promise kept here failed every later call
      // for the tenant (tree heads, evidence, certify) until the origin restarted.
      p = forgettingFailure(load(), (loading) => {
        if (memo.get(tenantId) === loading) memo.delete(tenantId);
      });
      memo.set(tenantId, p);
    }
    return p;
  }

  private async activeIssuingId(tenantId: string): Promise<string | undefined> {
    const [row] = await this.db.select({ id: authorities.id }).from(authorities)
      .where(and(eq(authorities.kind, "issuing"), eq(authorities.tenantId, tenantId), eq(authorities.status, "active")));
    return row?.id;
  }

  /**
   * The tenant's tree-head signer: a key and audit certificate (audit EKU, tenant binding) issued
   * by the tenant's current issuing CA, created on first use. A tenant whose log was signed by the
   * earlier `audit` certificate (no EKU, no binding) gets a new signer here; the old one signs
   * nothing more (docs/evidence-format.md, "Upgrading").
   */
  auditSignerFor(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, CaError>> {
    // As issuingFor: the memo must still be under the active issuing CA. After a rollover (here or
    // on another origin) a remembered signer kept signing under the retired CA, even one retired
    // for compromise, while origins that loaded afresh signed under the new one, and each then
    // refused the other's tree heads (503 "signed by an earlier tree-head signer").
    return this.memoised(this.audit, tenant.id, (a) => a.record.issuerAuthorityId, () => this.loadOrCreateAudit(tenant));
  }

  private async loadOrCreateAudit(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, CaError>> {
    const issuing = await this.issuingFor(tenant);
    if (!issuing.ok) return issuing;
    const existing = await this.db.select().from(authorities).where(and(
      eq(authorities.kind, "tree_head_signer"), eq(authorities.tenantId, tenant.id), eq(authorities.issuerAuthorityId, issuing.value.record.id),
    ));
    if (existing[0]) return ok(loaded(existing[0]));
    const key = await this.createProvenKey("audit", tenant.id, `kakunin-audit-${tenant.id}`);
    if (!key.ok) return key;
    const now = this.clock.now();
    const serial = newSerial();
    const cert = await signCertificate(this.keys, {
      serial, subject: auditName(tenant.name), issuer: issuing.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: issuing.value.spki, issuerCert: issuing.value.cert,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: issuing.value.cert.notAfter,
      extensions: auditExtensions(tenant.id, this.oids), signerRef: issuing.value.record.keyRef,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return this.insertOrReload(cert.value, serial, key.value, tenant.id, "tree_head_signer", issuing.value.record.id);
  }

  /** Any authority by id, e.g. the (possibly retired) issuing CA that signed a certificate. */
  async byId(id: string): Promise<LoadedAuthority | undefined> {
    const [row] = await this.db.select().from(authorities).where(eq(authorities.id, id));
    return row ? loaded(row) : undefined;
  }

  /** Every issuing CA the tenant ever had, the active one first, then retired ones newest first. */
  async issuersOf(tenantId: string): Promise<LoadedAuthority[]> {
    const rows = await this.db.select().from(authorities)
      .where(and(eq(authorities.kind, "issuing"), eq(authorities.tenantId, tenantId)))
      .orderBy(authorities.status, desc(authorities.createdAt));
    return rows.map(loaded);
  }

  /**
   * Key and certificate of a successor issuing CA, signed by the root, not stored yet: the caller
   * (lifecycle/rollover-ca.ts) retires the current one and stores this one in one transaction.
   * A distinct subject (` G<n>`) keeps path building by name unambiguous in every parser.
   */
  async signSuccessorIssuing(tenant: { id: string; name: string }, generation: number): Promise<Result<{ cert: x509.X509Certificate; serial: string; keyRef: string }, CaError>> {
    if (this.offlineRoot) return caNotReady("offline root: a new issuing CA is a CSR signed offline and imported, not an online rollover");
    const root = await this.root();
    if (!root.ok) return root;
    const key = await this.createProvenKey("issuing", tenant.id, `kakunin-issuing-ca-${tenant.id}-g${generation}`);
    if (!key.ok) return key;
    const now = this.clock.now();
    const serial = newSerial();
    const notAfter = Math.min(now.getTime() + ISSUING_VALIDITY_DAYS * DAY_MS, root.value.cert.notAfter.getTime());
    const cert = await signCertificate(this.keys, {
      serial, subject: issuingName(tenant.name, generation), issuer: root.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: root.value.spki, issuerCert: root.value.cert,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(notAfter),
      extensions: issuingExtensions({ tenant: { id: tenant.id, oids: this.oids }, urls: this.publicEdgeUrl ? issuingPkiUrls(this.publicEdgeUrl, tenant.id) : undefined }), signerRef: root.value.record.keyRef,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return ok({ cert: cert.value, serial, keyRef: key.value.ref });
  }

  /**
   * Offline-root mode: a key for the tenant's next issuing CA in the KeyManager and a PKCS#10
   * request for it, signed by that key, asking for the issuing profile's subject and extensions.
   * Nothing is stored here beyond the key intent; lifecycle/request-issuing-ca.ts records the request.
   */
  async requestIssuing(tenant: { id: string; name: string }, generation: number): Promise<Result<{ csrPem: string; keyRef: string; spki: Uint8Array }, KeyManagerError>> {
    const key = await this.createKey("issuing", tenant.id, `kakunin-issuing-ca-${tenant.id}-g${generation}`);
    if (!key.ok) return key;
    const csr = await signCsr(this.keys, {
      subject: issuingName(tenant.name, generation), spki: key.value.publicKeySpki, keyRef: key.value.ref,
      extensions: issuingExtensions({ tenant: { id: tenant.id, oids: this.oids }, urls: this.publicEdgeUrl ? issuingPkiUrls(this.publicEdgeUrl, tenant.id) : undefined }),
    });
    if (!csr.ok) return this.abandon(key.value, csr);
    return ok({ csrPem: csr.value, keyRef: key.value.ref, spki: key.value.publicKeySpki });
  }

  /** Drops the memoised issuing CA of a tenant (after a rollover), so the next certify loads the new one. */
  forgetIssuing(tenantId: string): void {
    this.issuing.delete(tenantId);
    this.audit.delete(tenantId);
  }

  /** PEM chain a relying party needs: issuing CA then root (RFC 5246 order, leaf not included). */
  async chainPem(tenant: { id: string; name: string }): Promise<Result<string, CaError>> {
    const issuing = await this.issuingFor(tenant);
    if (!issuing.ok) return issuing;
    const root = await this.root();
    if (!root.ok) return root;
    return ok(issuing.value.record.certificatePem + root.value.record.certificatePem);
  }

  private async loadOrCreateRoot(): Promise<Result<LoadedAuthority, CaError>> {
    const existing = await this.db.select().from(authorities).where(eq(authorities.kind, "root"));
    if (this.opts.offlineRootPem !== undefined) return this.loadOfflineRoot(this.opts.offlineRootPem, existing[0]);
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

  private async loadOrCreateIssuing(tenant: { id: string; name: string }): Promise<Result<LoadedAuthority, CaError>> {
    const existing = await this.db
      .select()
      .from(authorities)
      .where(and(eq(authorities.kind, "issuing"), eq(authorities.tenantId, tenant.id), eq(authorities.status, "active")));
    if (existing[0]) return ok(loaded(existing[0]));
    if (this.offlineRoot) {
      return caNotReady("offline root: this tenant has no issuing CA yet; create a request (kakunin ca csr), sign it with the root offline and import it (kakunin ca import)");
    }
    const root = await this.root();
    if (!root.ok) return root;
    const key = await this.createProvenKey("issuing", tenant.id, `kakunin-issuing-ca-${tenant.id}`);
    if (!key.ok) return key;
    const now = this.clock.now();
    const serial = newSerial();
    const notAfter = Math.min(now.getTime() + ISSUING_VALIDITY_DAYS * DAY_MS, root.value.cert.notAfter.getTime());
    const cert = await signCertificate(this.keys, {
      serial, subject: issuingName(tenant.name), issuer: root.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: root.value.spki, issuerCert: root.value.cert,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(notAfter),
      extensions: issuingExtensions({ tenant: { id: tenant.id, oids: this.oids }, urls: this.publicEdgeUrl ? issuingPkiUrls(this.publicEdgeUrl, tenant.id) : undefined }), signerRef: root.value.record.keyRef,
    });
    if (!cert.ok) return this.abandon(key.value, cert);
    return this.insertOrReload(cert.value, serial, key.value, tenant.id, "issuing");
  }

  /**
   * Offline-root mode: the root row holds the operator's certificate and no key. Stored on first
   * start; afterwards the configured file must name the same root, so a misconfigured origin
   * refuses to sign rather than publish a chain to a root relying parties do not trust.
   */
  private async loadOfflineRoot(pem: string, stored: AuthorityRecord | undefined): Promise<Result<LoadedAuthority, CaError>> {
    const parsed = await parseOfflineRoot(pem, this.clock.now());
    if (!parsed.ok) return caNotReady(`KAKUNIN_ROOT_CERT_FILE: ${parsed.error}`);
    const cert = parsed.value;
    if (!stored) {
      await this.db.insert(authorities).values({
        tenantId: null, kind: "root", serialNumber: storedSerial(cert), subject: cert.subject,
        certificatePem: cert.toString("pem") + "\n", keyRef: OFFLINE_ROOT_KEY_REF, notBefore: cert.notBefore, notAfter: cert.notAfter,
      }).onConflictDoNothing();
      [stored] = await this.db.select().from(authorities).where(eq(authorities.kind, "root"));
      if (!stored) return err({ code: "failed", message: "root vanished after insert" });
    }
    const held = loaded(stored);
    if (Buffer.compare(Buffer.from(held.cert.rawData), Buffer.from(cert.rawData)) !== 0) {
      return caNotReady(`KAKUNIN_ROOT_CERT_FILE names a different root (${cert.subject}) than the database holds (${held.cert.subject})`);
    }
    return ok(held);
  }

  /** Two origins racing to create the same CA: the partial unique index picks one, the other reloads. */
  private async insertOrReload(
    cert: x509.X509Certificate, serial: string, key: TrackedKey, tenantId: string | null, kind: "root" | "issuing" | "tree_head_signer",
    issuerAuthorityId: string | null = null,
  ): Promise<Result<LoadedAuthority, CaError>> {
    const keyRef = key.ref;
    try {
      const row = await this.db.transaction(async (tx) => {
        const [inserted] = await tx.insert(authorities).values({
          tenantId, kind, serialNumber: serial, subject: cert.subject, certificatePem: cert.toString("pem") + "\n",
          keyRef, notBefore: cert.notBefore, notAfter: cert.notAfter, issuerAuthorityId,
        }).returning();
        await this.opts.onCreated?.(tx, {
          tenantId, kind, serialNumber: serial, subject: cert.subject, keyRef, notBefore: cert.notBefore, notAfter: cert.notAfter, at: this.clock.now(),
        });
        return inserted!;
      });
      return ok(loaded(row));
    } catch (e) {
      // The losing side of a creation race (or a failed commit): its key will never be used.
      await discardKey(this.keyDeps, key, sqlState(e) === UNIQUE_VIOLATION ? `lost ${kind} CA creation race` : "commit failed", this.clock.now());
      if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
      const where = kind === "root"
        ? eq(authorities.kind, "root")
        : kind === "tree_head_signer"
          ? and(eq(authorities.kind, kind), eq(authorities.issuerAuthorityId, issuerAuthorityId!))
          : and(eq(authorities.kind, kind), eq(authorities.tenantId, tenantId!), eq(authorities.status, "active"));
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

/**
 * `load`, memoised by the caller, with `forget` called (given the promise the caller holds) when it
 * fails, whether it returns a failure or throws: a memo must not keep a failed load, or every later
 * call fails until a restart.
 */
function forgettingFailure<R extends { ok: boolean }>(load: Promise<R>, forget: (p: Promise<R>) => void): Promise<R> {
  const p: Promise<R> = load.then(
    (r) => {
      if (!r.ok) forget(p);
      return r;
    },
    (e: unknown) => {
      forget(p);
      throw e;
    },
  );
  return p;
}
