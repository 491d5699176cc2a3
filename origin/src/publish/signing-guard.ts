import { eq } from "drizzle-orm";
import type { LogFn } from "../observability/logger.ts";
import { certificates, tenants } from "../db/schema.ts";
import { RetryLoop, type PassResult } from "../retry-loop.ts";
import type { Services } from "../services.ts";
import { enqueue } from "./outbox.ts";
import type { IssuerCrl, PublishSigners, SignedCrl } from "./signers.ts";

type Owed = { kind: "cert" | "crl"; subject: string };

/**
 * Stands between the publisher and its signers. When the key manager fails (down, or hung past
 * its deadline), the first failure trips the guard: the rest of the batch, and every batch after,
 * is published without signing (a status record needs no signature, so revocations still reach
 * the edge at once) and each unsigned subject is remembered as owed. A retry loop then tries one
 * owed signature for real, with backoff (1 s doubling to 30 s); the first success re-queues every
 * owed subject, so OCSP responses and CRLs are re-signed as soon as the key manager recovers, not
 * at the next 2-day refresh. After a restart, the refresher's start-up pass finds the same
 * subjects (never-signed OCSP, CRLs re-issued at start).
 */
export class SigningGuard implements PublishSigners {
  readonly signs: boolean;
  private down = false;
  private readonly owed = new Map<string, Owed>();
  private readonly loop: RetryLoop;

  constructor(
    private readonly s: Services,
    private readonly inner: PublishSigners,
    private readonly onRecovered: () => void,
    opts: { minBackoffMs?: number; maxBackoffMs?: number; log: LogFn },
  ) {
    this.signs = inner.signs === true;
    this.log = opts.log;
    this.loop = new RetryLoop(() => this.resignOnce(), {
      idleMs: 60_000, minBackoffMs: opts.minBackoffMs ?? 1000, maxBackoffMs: opts.maxBackoffMs ?? 30_000, name: "key manager", log: opts.log, health: s.background.loop("signing"),
    });
  }

  private readonly log: LogFn;

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Subjects published without their signature, waiting for the key manager. */
  owedCount(): number {
    return this.owed.size;
  }

  async ocsp(cert: Parameters<PublishSigners["ocsp"]>[0]): ReturnType<PublishSigners["ocsp"]> {
    if (this.down) return this.owe({ kind: "cert", subject: cert.serialNumber });
    const r = await this.inner.ocsp(cert);
    if (r === null && this.signs) return this.trip({ kind: "cert", subject: cert.serialNumber });
    return r;
  }

  async crl(tenant: { id: string; name: string }): Promise<IssuerCrl[] | null> {
    if (this.down) return this.owe({ kind: "crl", subject: tenant.id });
    const r = await this.inner.crl(tenant);
    if (r === null && this.signs) return this.trip({ kind: "crl", subject: tenant.id });
    return r;
  }

  /**
   * The root's CRL of issuing CAs. Not owed on failure: it is signed again with every tenant CRL
   * (crlRecords), so re-signing the owed tenant CRLs after recovery brings it along.
   */
  async arl(): Promise<SignedCrl | null> {
    return this.down ? null : this.inner.arl();
  }

  /** One owed signature, tried for real. Success means the key manager is back: every owed subject is re-queued. */
  async resignOnce(): Promise<PassResult> {
    const first = this.owed.values().next().value;
    if (!first) return { outcome: "idle" };
    if (!(await this.signOne(first))) return { outcome: "failed", error: "key manager still cannot sign OCSP/CRL; status records publish unsigned" };
    this.down = false;
    const owed = [...this.owed];
    // Forgotten only once queued: a failed enqueue leaves them owed for the next try. CRLs carry
    // the revocations made during the outage, so they go out as changes; the OCSP responses,
    // possibly thousands, are upkeep and must not hold up revocations made after the recovery.
    await enqueue(this.s.db, owed.flatMap(([, item]) => (item.kind === "crl" ? [item] : [])));
    await enqueue(this.s.db, owed.flatMap(([, item]) => (item.kind === "cert" ? [item] : [])), { background: true });
    for (const [key, item] of owed) if (this.owed.get(key) === item) this.owed.delete(key);
    this.log(`key manager signs again: ${owed.length} OCSP response(s)/CRL(s) queued for re-signing`);
    this.onRecovered();
    return { outcome: "idle" };
  }

  private async signOne(o: Owed): Promise<boolean> {
    if (o.kind === "cert") {
      const [cert] = await this.s.db.select().from(certificates).where(eq(certificates.serialNumber, o.subject));
      return !cert || (await this.inner.ocsp(cert)) !== null;
    }
    const [t] = await this.s.db.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.id, o.subject));
    return !t || (await this.inner.crl(t)) !== null;
  }

  private owe(o: Owed): null {
    this.owed.set(`${o.kind}:${o.subject}`, o);
    return null;
  }

  private trip(o: Owed): null {
    if (!this.down) this.log("key manager cannot sign; publishing status records unsigned and re-signing on recovery");
    this.down = true;
    this.owe(o);
    this.loop.kick();
    return null;
  }
}
