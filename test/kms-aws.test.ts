import { webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand, VerifyCommand } from "@aws-sdk/client-kms";
import { createAwsKmsKeyManager, type AwsKmsOptions } from "@kakunin/origin/kms/aws";
import type { KeyManager } from "@kakunin/origin/kms/types";
import { AwsClient } from "aws4fetch";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startKmsTestServer, type KmsTestServer } from "./support/kms-server.ts";

const subtle = webcrypto.subtle;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const JSON_TYPE = "application/x-amz-json-1.1";
// Anything on the host that could make the SDK find credentials or a region we did not give it.
const AWS_ENV = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

let kms: KmsTestServer;
const managers: KeyManager[] = [];
const clients: KMSClient[] = [];

function manager(overrides: Partial<AwsKmsOptions> = {}): KeyManager {
  const m = createAwsKmsKeyManager({
    region: kms.region,
    endpoint: kms.url,
    credentials: { accessKeyId: kms.accessKeyId, secretAccessKey: kms.secretAccessKey },
    ...overrides,
  });
  managers.push(m);
  return m;
}

/** A plain SDK client, for setting up states (deletion, aliases) the KeyManager never creates. */
function sdkClient(): KMSClient {
  const c = new KMSClient({
    region: kms.region,
    endpoint: kms.url,
    credentials: { accessKeyId: kms.accessKeyId, secretAccessKey: kms.secretAccessKey },
  });
  clients.push(c);
  return c;
}

function signer(overrides: { accessKeyId?: string; region?: string } = {}): AwsClient {
  return new AwsClient({
    accessKeyId: overrides.accessKeyId ?? kms.accessKeyId,
    secretAccessKey: kms.secretAccessKey,
    service: "kms",
    region: overrides.region ?? kms.region,
    retries: 0,
  });
}

function kmsHeaders(op: string): Record<string, string> {
  return { "content-type": JSON_TYPE, "x-amz-target": `TrentService.${op}` };
}

async function verifies(spki: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const key = await subtle.importKey("spki", spki, RSA, false, ["verify"]);
  return subtle.verify(RSA, key, signature, data);
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

beforeAll(async () => {
  kms = await startKmsTestServer();
});

afterAll(async () => {
  await kms.close();
});

beforeEach(() => {
  for (const name of AWS_ENV) vi.stubEnv(name, undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(managers.splice(0).map((m) => m.close()));
  for (const c of clients.splice(0)) c.destroy();
});

describe("aws-kms KeyManager against the KMS test server", () => {
  it("creates a key whose ref is the KMS ARN and whose SPKI WebCrypto imports as RSA-2048", async () => {
    const km = manager();
    const before = { ...kms.stats };
    const created = await km.createKey("agent-1");
    if (!created.ok) throw new Error(created.error.message);
    expect(created.value.ref).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36}$/);
    expect(kms.stats.createKey - before.createKey).toBe(1);

    const key = await subtle.importKey("spki", created.value.publicKeySpki, RSA, true, ["verify"]);
    const alg = key.algorithm as webcrypto.RsaHashedKeyAlgorithm;
    expect(alg.modulusLength).toBe(2048);
    expect(alg.hash.name).toBe("SHA-256");

    const again = await km.getPublicKey(created.value.ref);
    expect(again.ok && Buffer.from(again.value).equals(Buffer.from(created.value.publicKeySpki))).toBe(true);

    // The label travels to KMS as description and tag, so the key is recognisable in the console.
    const described = await sdkClient().send(new DescribeKeyCommand({ KeyId: created.value.ref }));
    expect(described.KeyMetadata?.Description).toContain("agent-1");
    expect(described.KeyMetadata?.KeySpec).toBe("RSA_2048");
    expect(described.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
  });

  it("signs with exactly one Sign call, verifiable by WebCrypto over the original data", async () => {
    const km = manager();
    const created = await km.createKey("agent-2");
    if (!created.ok) throw new Error(created.error.message);
    // Larger than KMS's 4096-byte message limit: works only because the digest is sent.
    const data = webcrypto.getRandomValues(new Uint8Array(10_000));
    const before = kms.stats.sign;
    const sig = await km.sign(created.value.ref, data);
    if (!sig.ok) throw new Error(sig.error.message);
    expect(kms.stats.sign - before).toBe(1);
    expect(sig.value.length).toBe(256);
    expect(await verifies(created.value.publicKeySpki, sig.value, data)).toBe(true);
    const tampered = data.slice();
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(await verifies(created.value.publicKeySpki, sig.value, tampered)).toBe(false);

    // KMS's own Verify agrees when given the same data RAW (it hashes, as the backend did).
    const small = data.subarray(0, 4096);
    const smallSig = await km.sign(created.value.ref, small);
    if (!smallSig.ok) throw new Error(smallSig.error.message);
    const verdict = await sdkClient().send(
      new VerifyCommand({
        KeyId: created.value.ref,
        Message: small,
        MessageType: "RAW",
        Signature: smallSig.value,
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    );
    expect(verdict.SignatureValid).toBe(true);
  });

  it("serves 50 concurrent signs", async () => {
    const km = manager();
    const created = await km.createKey("agent-3");
    if (!created.ok) throw new Error(created.error.message);
    const before = kms.stats.sign;
    const inputs = Array.from({ length: 50 }, (_, i) => new TextEncoder().encode(`tbsCertificate #${i}`));
    const results = await Promise.all(inputs.map((d) => km.sign(created.value.ref, d)));
    expect(kms.stats.sign - before).toBe(50);
    for (const [i, r] of results.entries()) {
      if (!r.ok) throw new Error(r.error.message);
      expect(await verifies(created.value.publicKeySpki, r.value, inputs[i] ?? new Uint8Array())).toBe(true);
    }
  });

  it("reports not_found for an unknown ARN and for a ref that is no KMS ARN", async () => {
    const km = manager();
    const unknown = `arn:aws:kms:${kms.region}:111122223333:key/00000000-0000-4000-8000-000000000000`;
    const pub = await km.getPublicKey(unknown);
    expect(pub.ok ? "ok" : pub.error.code).toBe("not_found");
    const sig = await km.sign(unknown, new Uint8Array([1]));
    expect(sig.ok ? "ok" : sig.error.code).toBe("not_found");

    const requests = kms.stats.requests;
    const local = await km.sign("local:key/00000000-0000-4000-8000-000000000000", new Uint8Array([1]));
    expect(local.ok ? "ok" : local.error.code).toBe("not_found");
    expect(kms.stats.requests).toBe(requests);
  });

  it("reports a key pending deletion as failed, not not_found", async () => {
    const km = manager();
    const created = await km.createKey("agent-4");
    if (!created.ok) throw new Error(created.error.message);
    await sdkClient().send(new ScheduleKeyDeletionCommand({ KeyId: created.value.ref, PendingWindowInDays: 7 }));
    const sig = await km.sign(created.value.ref, new Uint8Array([1]));
    expect(sig.ok ? "ok" : sig.error.code).toBe("failed");
    expect(sig.ok ? "" : sig.error.message).toContain("KMSInvalidStateException");
  });

  it("returns an error, not a throw, when the server rejects the signature of a wrong secret", async () => {
    const rejected = kms.stats.rejected;
    const wrongSecret = manager({ credentials: { accessKeyId: kms.accessKeyId, secretAccessKey: "not-the-secret" } });
    const created = await wrongSecret.createKey("agent-5");
    expect(created.ok ? "ok" : created.error.code).toBe("failed");
    expect(created.ok ? "" : created.error.message).toContain("InvalidSignatureException");

    const wrongKeyId = manager({ credentials: { accessKeyId: "AKIDUNKNOWN", secretAccessKey: kms.secretAccessKey } });
    const pub = await wrongKeyId.getPublicKey(`arn:aws:kms:${kms.region}:111122223333:key/x`);
    expect(pub.ok ? "" : pub.error.message).toContain("UnrecognizedClientException");
    expect(kms.stats.rejected - rejected).toBeGreaterThanOrEqual(2);
  });

  it("reports unavailable quickly when the server is gone", async () => {
    const gone = await startKmsTestServer();
    await gone.close();
    const km = manager({ endpoint: gone.url });
    const started = Date.now();
    const res = await km.createKey("agent-6");
    expect(res.ok ? "ok" : res.error.code).toBe("unavailable");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports unavailable when the server accepts but never answers (request timeout)", async () => {
    const silent: Server = createServer(() => {
      /* never responds */
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const km = manager({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
      const started = Date.now();
      const res = await km.sign(`arn:aws:kms:${kms.region}:111122223333:key/x`, new Uint8Array([1]));
      expect(res.ok ? "ok" : res.error.code).toBe("unavailable");
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  }, 30_000);

  it("maps 5xx and throttling to unavailable", async () => {
    for (const [status, type] of [
      [500, "KMSInternalException"],
      [400, "ThrottlingException"],
    ] as const) {
      const failing: Server = createServer((_req, res) => {
        res.writeHead(status, { "content-type": JSON_TYPE }).end(JSON.stringify({ __type: type, message: "nope" }));
      });
      await new Promise<void>((r) => failing.listen(0, "127.0.0.1", r));
      try {
        const km = manager({ endpoint: `http://127.0.0.1:${(failing.address() as AddressInfo).port}` });
        const res = await km.getPublicKey(`arn:aws:kms:${kms.region}:111122223333:key/x`);
        expect(res.ok ? "ok" : res.error.code, type).toBe("unavailable");
      } finally {
        failing.closeAllConnections();
        await new Promise((r) => failing.close(r));
      }
    }
  });

  it("reports not_configured without any request when region or credentials are missing", async () => {
    const requests = kms.stats.requests;
    const creds = { accessKeyId: kms.accessKeyId, secretAccessKey: kms.secretAccessKey };
    const cases: AwsKmsOptions[] = [
      { endpoint: kms.url, credentials: creds },
      { endpoint: kms.url, region: kms.region },
      { endpoint: kms.url },
    ];
    for (const opts of cases) {
      const km = createAwsKmsKeyManager(opts);
      managers.push(km);
      const created = await km.createKey("agent-7");
      expect(created.ok ? "ok" : created.error.code).toBe("not_configured");
      const sig = await km.sign(`arn:aws:kms:${kms.region}:111122223333:key/x`, new Uint8Array([1]));
      expect(sig.ok ? "ok" : sig.error.code).toBe("not_configured");
    }
    expect(kms.stats.requests).toBe(requests);
  });

  it("takes region and credentials from the environment", async () => {
    vi.stubEnv("AWS_REGION", kms.region);
    vi.stubEnv("AWS_ACCESS_KEY_ID", kms.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", kms.secretAccessKey);
    const km = createAwsKmsKeyManager({ endpoint: kms.url });
    managers.push(km);
    const created = await km.createKey("agent-8");
    expect(created.ok ? "ok" : created.error.message).toBe("ok");
  });

  it("adds an alias when keyAliasPrefix is set", async () => {
    const km = manager({ keyAliasPrefix: "kakunin/" });
    const before = kms.stats.createAlias;
    const created = await km.createKey("agent 9");
    if (!created.ok) throw new Error(created.error.message);
    expect(kms.stats.createAlias - before).toBe(1);
    const keyId = created.value.ref.split("/").pop() ?? "";
    const viaAlias = await sdkClient().send(new DescribeKeyCommand({ KeyId: `alias/kakunin/agent-9/${keyId}` }));
    expect(viaAlias.KeyMetadata?.Arn).toBe(created.value.ref);

    const bad = manager({ keyAliasPrefix: "aws/x" });
    const refused = await bad.createKey("agent-9");
    expect(refused.ok ? "ok" : refused.error.code).toBe("not_configured");
  });

  it("is safe to close twice and fails cleanly afterwards", async () => {
    const km = manager();
    await km.close();
    await km.close();
    const res = await km.createKey("agent-10");
    expect(res.ok ? "ok" : res.error.code).toBe("failed");
  });
});

describe("KMS test server SigV4 check", () => {
  let arn: string;

  beforeAll(async () => {
    const res = await signer().fetch(kms.url, {
      method: "POST",
      headers: kmsHeaders("CreateKey"),
      body: JSON.stringify({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Description: "aws4fetch" }),
    });
    const body = (await res.json()) as { KeyMetadata?: { Arn?: string } };
    arn = body.KeyMetadata?.Arn ?? "";
  });

  it("accepts a request signed by aws4fetch, an independent SigV4 implementation", async () => {
    expect(arn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    const res = await signer().fetch(kms.url, {
      method: "POST",
      headers: kmsHeaders("GetPublicKey"),
      body: JSON.stringify({ KeyId: arn }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.KeyId).toBe(arn);
    expect(body.KeySpec).toBe("RSA_2048");
    expect(body.SigningAlgorithms).toContain("RSASSA_PKCS1_V1_5_SHA_256");
    const spki = Buffer.from(String(body.PublicKey), "base64");
    await expect(subtle.importKey("spki", spki, RSA, false, ["verify"])).resolves.toBeDefined();

    // Signed query strings (sorting, encoding) and header values with inner runs of spaces too.
    const withQuery = await signer().fetch(`${kms.url}/?b=2&a=x%20y&a=1`, {
      method: "POST",
      headers: { ...kmsHeaders("DescribeKey"), "x-kakunin-note": "two  spaces\tand a tab" },
      body: JSON.stringify({ KeyId: arn }),
    });
    expect(withQuery.status).toBe(200);
  });

  it("rejects a request whose body was altered after signing", async () => {
    const signed = await signer().sign(kms.url, {
      method: "POST",
      headers: kmsHeaders("Sign"),
      body: JSON.stringify({ KeyId: arn, Message: Buffer.alloc(32).toString("base64"), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" }),
    });
    const before = kms.stats.sign;
    const res = await fetch(kms.url, {
      method: "POST",
      headers: signed.headers,
      body: JSON.stringify({ KeyId: arn, Message: Buffer.alloc(32, 1).toString("base64"), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("InvalidSignatureException");
    expect(kms.stats.sign).toBe(before);

    // The untouched original goes through: the rejection was about the body, nothing else.
    const original = await fetch(signed);
    expect(original.status).toBe(200);
  });

  it("rejects a stale or future X-Amz-Date even when correctly signed", async () => {
    for (const offset of [-10 * 60_000, 10 * 60_000]) {
      const res = await signer().fetch(kms.url, {
        method: "POST",
        headers: kmsHeaders("DescribeKey"),
        body: JSON.stringify({ KeyId: arn }),
        aws: { datetime: amzDate(Date.now() + offset) },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { __type: string; message: string };
      expect(body.__type).toBe("InvalidSignatureException");
      expect(body.message).toMatch(offset < 0 ? /Signature expired/ : /not yet current/);
    }
    const within = await signer().fetch(kms.url, {
      method: "POST",
      headers: kmsHeaders("DescribeKey"),
      body: JSON.stringify({ KeyId: arn }),
      aws: { datetime: amzDate(Date.now() - 2 * 60_000) },
    });
    expect(within.status).toBe(200);
  });

  it("rejects missing signatures, unknown access keys and wrong scopes", async () => {
    const unsigned = await fetch(kms.url, { method: "POST", headers: kmsHeaders("DescribeKey"), body: "{}" });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe("InvalidSignatureException");

    const unknownKey = await signer({ accessKeyId: "AKIDNOBODY" }).fetch(kms.url, {
      method: "POST",
      headers: kmsHeaders("DescribeKey"),
      body: JSON.stringify({ KeyId: arn }),
    });
    expect(unknownKey.status).toBe(400);
    expect(((await unknownKey.json()) as { __type: string }).__type).toBe("UnrecognizedClientException");

    const otherRegion = await signer({ region: "eu-west-1" }).fetch(kms.url, {
      method: "POST",
      headers: kmsHeaders("DescribeKey"),
      body: JSON.stringify({ KeyId: arn }),
    });
    expect(otherRegion.status).toBe(400);
    expect(((await otherRegion.json()) as { __type: string }).__type).toBe("InvalidSignatureException");

    // A signed header changed after signing (here the operation) breaks the signature too.
    const signed = await signer().sign(kms.url, { method: "POST", headers: kmsHeaders("DescribeKey"), body: JSON.stringify({ KeyId: arn }) });
    const headers = new Headers(signed.headers);
    headers.set("x-amz-target", "TrentService.ScheduleKeyDeletion");
    const retargeted = await fetch(kms.url, { method: "POST", headers, body: JSON.stringify({ KeyId: arn }) });
    expect(((await retargeted.json()) as { __type: string }).__type).toBe("InvalidSignatureException");
  });

  it("answers KMS errors the way KMS does", async () => {
    const call = async (op: string, input: Record<string, unknown>) => {
      const res = await signer().fetch(kms.url, { method: "POST", headers: kmsHeaders(op), body: JSON.stringify(input) });
      return { status: res.status, body: (await res.json()) as { __type?: string } };
    };
    const shortDigest = await call("Sign", {
      KeyId: arn,
      Message: Buffer.alloc(31).toString("base64"),
      MessageType: "DIGEST",
      SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
    });
    expect([shortDigest.status, shortDigest.body.__type]).toEqual([400, "ValidationException"]);
    const unknownOp = await call("Encrypt", { KeyId: arn });
    expect([unknownOp.status, unknownOp.body.__type]).toEqual([400, "UnsupportedOperationException"]);
    const missing = await call("GetPublicKey", { KeyId: `arn:aws:kms:us-east-1:111122223333:key/nope` });
    expect([missing.status, missing.body.__type]).toEqual([400, "NotFoundException"]);

    const raw = await call("Sign", {
      KeyId: arn,
      Message: Buffer.from("hello").toString("base64"),
      MessageType: "RAW",
      SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
    });
    expect(raw.status).toBe(200);
    const verified = await sdkClient().send(
      new VerifyCommand({
        KeyId: arn,
        Message: new TextEncoder().encode("hello"),
        MessageType: "RAW",
        Signature: Buffer.from(String((raw.body as { Signature?: string }).Signature), "base64"),
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    );
    expect(verified.SignatureValid).toBe(true);
  });
});
