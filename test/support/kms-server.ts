import {
  constants,
  createHash,
  createHmac,
  generateKeyPair,
  privateEncrypt,
  publicDecrypt,
  randomUUID,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";

/**
 * An AWS-KMS-compatible server for end-to-end tests: the real @aws-sdk/client-kms talks to it over
 * HTTP with the JSON 1.1 protocol, and every request must carry a valid SigV4 signature, so a
 * client that signs wrongly fails here as it would against AWS. Keys are RSA-2048 KeyObjects held
 * in memory; private keys never appear in a response.
 */

export interface KmsTestServerOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  port?: number;
  /**
   * RSA pairs generated before the server listens, handed out by CreateKey first. AWS answers
   * CreateKey in milliseconds; generating in-process on 2 cores does not, and a burst of 50 would
   * time out the client for the test server's sake, not the code under test's.
   */
  pregenerate?: number;
}

export interface KmsTestServerStats {
  sign: number;
  createKey: number;
  getPublicKey: number;
  verify: number;
  describeKey: number;
  scheduleKeyDeletion: number;
  createAlias: number;
  listKeys: number;
  listResourceTags: number;
  /** Every HTTP request received, authenticated or not. */
  requests: number;
  /** Requests refused by the SigV4 check. */
  rejected: number;
}

export interface KmsTestServer {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  stats: KmsTestServerStats;
  /** Keys by state, read directly (what an operator sees in the console). */
  keyCounts(): { enabled: number; pendingDeletion: number };
  /** Simulates an outage: while true every request gets 503 KMSInternalException (keys are kept). */
  setOutage(down: boolean): void;
  /** Simulates a hung KMS: while true every request is accepted and never answered (until close). */
  setHang(hang: boolean): void;
  /**
   * Injects a fault into the next `times` requests for operation `op` (default: every one until
   * cleared with `undefined`). See KmsFault for what each does.
   */
  setFault(op: KmsOperation, fault: KmsFault | undefined, times?: number): void;
  close(): Promise<void>;
}

/** Operations `setFault` can target (the JSON 1.1 target names). */
export type KmsOperation = "CreateKey" | "GetPublicKey" | "Sign" | "DescribeKey" | "ScheduleKeyDeletion" | "ListKeys" | "ListResourceTags" | "CreateAlias";

/**
 * What a faulty KMS does to one request:
 * - `error`: answers `status` with `{__type}` without performing the operation (throttling, 5xx);
 * - `reset-after-perform`: performs the operation, then drops the connection before answering
 *   (the answer lost on the way back: the key exists, the client never hears of it);
 * - `corrupt-signature`: Sign answers 200 with a signature that does not verify (a faulty HSM);
 * - `wrong-public-key`: GetPublicKey answers another, freshly made RSA-2048 key's SPKI.
 */
export type KmsFault =
  | { kind: "error"; type: string; status: number }
  | { kind: "reset-after-perform" }
  | { kind: "corrupt-signature" }
  | { kind: "wrong-public-key" };

const ACCOUNT = "111122223333";
const MAX_SKEW_MS = 5 * 60 * 1000;
const MAX_BODY = 1024 * 1024;
const JSON_TYPE = "application/x-amz-json-1.1";
const SIGNING_ALGORITHMS = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
];
// DER DigestInfo prefixes (RFC 8017 §9.2 note 1): PKCS#1 v1.5 signs DigestInfo(hash) || digest.
const PKCS1 = {
  RSASSA_PKCS1_V1_5_SHA_256: { hash: "sha256", size: 32, prefix: "3031300d060960864801650304020105000420" },
  RSASSA_PKCS1_V1_5_SHA_384: { hash: "sha384", size: 48, prefix: "3041300d060960864801650304020205000430" },
  RSASSA_PKCS1_V1_5_SHA_512: { hash: "sha512", size: 64, prefix: "3051300d060960864801650304020305000440" },
} as const;
type Pkcs1Algorithm = keyof typeof PKCS1;

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface StoredKey {
  id: string;
  arn: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Buffer;
  description: string;
  tags: { TagKey: string; TagValue: string }[];
  created: number;
  deletionDate?: number;
}

type Json = Record<string, unknown>;
const generateRsa = promisify(generateKeyPair);

export async function startKmsTestServer(opts: KmsTestServerOptions = {}): Promise<KmsTestServer> {
  const accessKeyId = opts.accessKeyId ?? "AKIDKAKUNINTEST00001";
  const secretAccessKey = opts.secretAccessKey ?? "kakunin-test-secret/" + randomUUID();
  const region = opts.region ?? "us-east-1";
  const stats: KmsTestServerStats = {
    sign: 0,
    createKey: 0,
    getPublicKey: 0,
    verify: 0,
    describeKey: 0,
    scheduleKeyDeletion: 0,
    createAlias: 0,
    listKeys: 0,
    listResourceTags: 0,
    requests: 0,
    rejected: 0,
  };
  const keys = new Map<string, StoredKey>();
  const ready: { privateKey: KeyObject; publicKey: KeyObject }[] = [];
  for (let i = 0; i < (opts.pregenerate ?? 0); i++) ready.push(await generateRsa("rsa", { modulusLength: 2048, publicExponent: 0x10001 }));
  const aliases = new Map<string, string>();
  const creds = { accessKeyId, secretAccessKey, region };

  function resolveKey(keyId: unknown): StoredKey {
    const ref = requireString(keyId, "KeyId", 2048);
    let id = ref;
    if (ref.startsWith("arn:")) {
      const m = /^arn:aws:kms:([^:]+):(\d{12}):((?:key|alias)\/.+)$/.exec(ref);
      if (!m) throw new KmsError("NotFoundException", `Invalid arn ${ref}`);
      if (m[1] !== region) throw new KmsError("NotFoundException", `Invalid arn ${m[1]}`);
      if (m[2] !== ACCOUNT) throw new KmsError("NotFoundException", `Key '${ref}' does not exist`);
      id = m[3] ?? "";
    }
    if (id.startsWith("alias/")) id = aliases.get(id) ?? id;
    else if (id.startsWith("key/")) id = id.slice("key/".length);
    const key = keys.get(id);
    if (!key) throw new KmsError("NotFoundException", `Key '${ref}' does not exist`);
    return key;
  }

  function usableKey(keyId: unknown): StoredKey {
    const key = resolveKey(keyId);
    if (key.deletionDate !== undefined) throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    return key;
  }

  function metadata(key: StoredKey): Json {
    return {
      AWSAccountId: ACCOUNT,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: key.created / 1000,
      Enabled: key.deletionDate === undefined,
      Description: key.description,
      KeyUsage: "SIGN_VERIFY",
      KeyState: key.deletionDate === undefined ? "Enabled" : "PendingDeletion",
      ...(key.deletionDate !== undefined ? { DeletionDate: key.deletionDate / 1000 } : {}),
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      CustomerMasterKeySpec: "RSA_2048",
      KeySpec: "RSA_2048",
      SigningAlgorithms: SIGNING_ALGORITHMS,
      MultiRegion: false,
    };
  }

  const operations: Record<string, (input: Json) => Promise<Json>> = {
    async CreateKey(input) {
      stats.createKey++;
      const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
      if (spec !== "RSA_2048") throw new KmsError("UnsupportedOperationException", `test server only creates RSA_2048 keys, not ${String(spec)}`);
      if (input.KeyUsage !== "SIGN_VERIFY") throw new KmsError("ValidationException", "KeyUsage must be SIGN_VERIFY on this test server");
      const description = input.Description === undefined ? "" : requireString(input.Description, "Description", 8192, 0);
      const tags = parseTags(input.Tags);
      const pair = ready.pop() ?? (await generateRsa("rsa", { modulusLength: 2048, publicExponent: 0x10001 }));
      const id = randomUUID();
      const key: StoredKey = {
        id,
        arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`,
        privateKey: pair.privateKey,
        publicKey: pair.publicKey,
        spki: pair.publicKey.export({ type: "spki", format: "der" }),
        description,
        tags,
        created: Date.now(),
      };
      keys.set(id, key);
      return { KeyMetadata: metadata(key) };
    },
    async GetPublicKey(input) {
      stats.getPublicKey++;
      const key = usableKey(input.KeyId);
      return {
        KeyId: key.arn,
        PublicKey: key.spki.toString("base64"),
        CustomerMasterKeySpec: "RSA_2048",
        KeySpec: "RSA_2048",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: SIGNING_ALGORITHMS,
      };
    },
    async Sign(input) {
      stats.sign++;
      const key = usableKey(input.KeyId);
      const alg = signingAlgorithm(input.SigningAlgorithm);
      const digestInfo = digestInfoFor(alg, input.Message, input.MessageType);
      const signature = privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
      return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: alg };
    },
    async Verify(input) {
      stats.verify++;
      const key = usableKey(input.KeyId);
      const alg = signingAlgorithm(input.SigningAlgorithm);
      const expected = digestInfoFor(alg, input.Message, input.MessageType);
      const signature = decodeBlob(input.Signature, "Signature", 6144);
      let recovered: Buffer | undefined;
      try {
        recovered = publicDecrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      } catch {
        recovered = undefined;
      }
      if (!recovered || !recovered.equals(expected)) throw new KmsError("KMSInvalidSignatureException", "");
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: alg };
    },
    async DescribeKey(input) {
      stats.describeKey++;
      return { KeyMetadata: metadata(resolveKey(input.KeyId)) };
    },
    async ScheduleKeyDeletion(input) {
      stats.scheduleKeyDeletion++;
      const key = resolveKey(input.KeyId);
      const days = input.PendingWindowInDays ?? 30;
      if (typeof days !== "number" || !Number.isInteger(days) || days < 7 || days > 30)
        throw new KmsError("ValidationException", "PendingWindowInDays must be an integer from 7 to 30");
      if (key.deletionDate !== undefined) throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
      key.deletionDate = Date.now() + days * 86_400_000;
      return { KeyId: key.arn, DeletionDate: key.deletionDate / 1000, KeyState: "PendingDeletion", PendingWindowInDays: days };
    },
    // Every key in every state, in creation order, like AWS (which also lists PendingDeletion keys).
    async ListKeys(input) {
      stats.listKeys++;
      const limit = input.Limit === undefined ? 100 : input.Limit;
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new KmsError("ValidationException", "Limit must be an integer from 1 to 1000");
      const all = [...keys.values()];
      const start = input.Marker === undefined ? 0 : Number.parseInt(requireString(input.Marker, "Marker", 320), 10);
      if (!Number.isInteger(start) || start < 0 || start > all.length) throw new KmsError("InvalidMarkerException", "Invalid Marker");
      const page = all.slice(start, start + limit);
      const truncated = start + limit < all.length;
      return { Keys: page.map((k) => ({ KeyId: k.id, KeyArn: k.arn })), Truncated: truncated, ...(truncated ? { NextMarker: String(start + limit) } : {}) };
    },
    async ListResourceTags(input) {
      stats.listResourceTags++;
      return { Tags: resolveKey(input.KeyId).tags, Truncated: false };
    },
    async CreateAlias(input) {
      stats.createAlias++;
      const name = requireString(input.AliasName, "AliasName", 256);
      if (!/^alias\/[a-zA-Z0-9:/_-]+$/.test(name) || name.startsWith("alias/aws/"))
        throw new KmsError("ValidationException", `Alias must match alias/[a-zA-Z0-9:/_-]+: ${name}`);
      if (aliases.has(name)) throw new KmsError("AlreadyExistsException", `An alias with the name ${name} already exists`);
      aliases.set(name, usableKey(input.TargetKeyId).id);
      return {};
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const body = await readBody(req);
    try {
      verifySigV4(req, body, creds);
    } catch (e) {
      stats.rejected++;
      throw e;
    }
    if (req.method !== "POST" || (req.url ?? "/").split("?")[0] !== "/")
      throw new KmsError("UnsupportedOperationException", `${req.method ?? "?"} ${req.url ?? "?"} is not a KMS operation`);
    const target = header(req, "x-amz-target") ?? "";
    const op = target.startsWith("TrentService.") ? operations[target.slice("TrentService.".length)] : undefined;
    if (!op) throw new KmsError("UnsupportedOperationException", `Unsupported operation ${target}`);
    if (!(header(req, "content-type") ?? "").startsWith(JSON_TYPE))
      throw new KmsError("ValidationException", `Content-Type must be ${JSON_TYPE}`);
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch {
      throw new KmsError("ValidationException", "Request body is not valid JSON");
    }
    if (typeof input !== "object" || input === null || Array.isArray(input))
      throw new KmsError("ValidationException", "Request body must be a JSON object");
    const opName = target.slice("TrentService.".length);
    const fault = takeFault(opName);
    if (fault?.kind === "error") throw new KmsError(fault.type, "injected fault", fault.status);
    const output = await op(input as Json);
    if (fault?.kind === "reset-after-perform") {
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === "corrupt-signature" && typeof output.Signature === "string") {
      const sig = Buffer.from(output.Signature, "base64");
      sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0x01;
      output.Signature = sig.toString("base64");
    }
    if (fault?.kind === "wrong-public-key") {
      const other = await generateRsa("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
      output.PublicKey = other.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    }
    send(res, 200, output);
  }

  const faults = new Map<string, { fault: KmsFault; remaining: number }>();
  function takeFault(op: string): KmsFault | undefined {
    const f = faults.get(op);
    if (!f) return undefined;
    if (--f.remaining <= 0) faults.delete(op);
    return f.fault;
  }

  let outage = false;
  let hang = false;
  const server = createServer((req, res) => {
    if (hang) {
      req.resume(); // read the request, never answer: what a wedged endpoint does
      return;
    }
    if (outage) {
      req.resume();
      send(res, 503, { __type: "KMSInternalException", message: "simulated outage" });
      return;
    }
    handle(req, res).catch((e: unknown) => {
      if (e instanceof KmsError) send(res, e.status, { __type: e.type, message: e.message });
      else send(res, 500, { __type: "KMSInternalException", message: e instanceof Error ? e.message : String(e) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    region,
    stats,
    keyCounts: () => {
      const all = [...keys.values()];
      const pendingDeletion = all.filter((k) => k.deletionDate !== undefined).length;
      return { enabled: all.length - pendingDeletion, pendingDeletion };
    },
    setOutage: (down: boolean) => {
      outage = down;
    },
    setHang: (h: boolean) => {
      hang = h;
    },
    setFault: (op, fault, times = Number.POSITIVE_INFINITY) => {
      if (fault) faults.set(op, { fault, remaining: times });
      else faults.delete(op);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        // The SDK keeps sockets alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), header
// form only: rebuild the canonical request from what arrived and compare signatures.

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

function verifySigV4(req: IncomingMessage, body: Buffer, creds: Credentials): void {
  const invalid = (message: string) => new KmsError("InvalidSignatureException", message);
  const auth = header(req, "authorization");
  if (!auth) throw invalid("Missing Authentication Token");
  const m = /^AWS4-HMAC-SHA256 (.+)$/.exec(auth);
  if (!m?.[1]) throw invalid("Unsupported or malformed Authorization header");
  const fields = new Map<string, string>();
  for (const part of m[1].split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeadersField = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeadersField || !signature || !/^[0-9a-f]{64}$/.test(signature))
    throw invalid("Authorization header requires Credential, SignedHeaders and Signature");

  const [keyId, scopeDate, scopeRegion, scopeService, terminator, ...extra] = credential.split("/");
  if (keyId !== creds.accessKeyId)
    throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
  // This server issues no session tokens, so any token is one it cannot have issued.
  if (header(req, "x-amz-security-token") !== undefined)
    throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");

  const amzDate = header(req, "x-amz-date") ?? "";
  const at = parseAmzDate(amzDate);
  if (at === undefined) throw invalid("X-Amz-Date is missing or not in the form YYYYMMDDTHHMMSSZ");
  const now = Date.now();
  if (at < now - MAX_SKEW_MS)
    throw invalid(`Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`);
  if (at > now + MAX_SKEW_MS)
    throw invalid(`Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`);
  if (extra.length > 0 || scopeDate !== amzDate.slice(0, 8) || terminator !== "aws4_request")
    throw invalid(`Credential scope is malformed: ${credential}`);
  if (scopeRegion !== creds.region) throw invalid(`Credential should be scoped to a valid region, not '${scopeRegion ?? ""}'.`);
  if (scopeService !== "kms") throw invalid(`Credential should be scoped to correct service: 'kms'.`);

  const signedHeaders = signedHeadersField.split(";");
  const sorted = [...new Set(signedHeaders)].sort();
  if (signedHeaders.some((h) => h !== h.toLowerCase()) || sorted.join(";") !== signedHeadersField)
    throw invalid("SignedHeaders must be lowercase, sorted and unique");
  if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date"))
    throw invalid("host and x-amz-date must be signed");

  const payloadHash = createHash("sha256").update(body).digest("hex");
  const claimed = header(req, "x-amz-content-sha256");
  if (claimed !== undefined && claimed !== payloadHash) throw invalid("x-amz-content-sha256 does not match the body");

  const [rawPath = "/", rawQuery = ""] = (req.url ?? "/").split(/\?(.*)/s);
  const canonicalHeaders = signedHeaders.map((name) => {
    const values = headerValues(req, name);
    if (values.length === 0) throw invalid(`Signed header ${name} is missing from the request`);
    return `${name}:${values.map(canonicalHeaderValue).join(",")}\n`;
  });
  const canonicalRequest = [
    req.method ?? "",
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(""),
    signedHeadersField,
    payloadHash,
  ].join("\n");
  const scope = `${scopeDate}/${scopeRegion}/kms/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let signingKey = hmac(`AWS4${creds.secretAccessKey}`, scopeDate);
  for (const part of [creds.region, "kms", "aws4_request"]) signingKey = hmac(signingKey, part);
  const expected = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature)))
    throw invalid(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

/** RFC 3986 encoding: encodeURIComponent also leaves !'()* alone, SigV4 does not. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// Services other than S3 normalise the path and encode each (already encoded) segment again.
function canonicalPath(raw: string): string {
  const segments: string[] = [];
  for (const seg of raw.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(uriEncode(seg));
  }
  const trailing = segments.length > 0 && raw.endsWith("/") ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

function canonicalQuery(raw: string): string {
  if (raw === "") return "";
  const pairs = raw
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? "" : p.slice(eq + 1);
      return [uriEncode(safeDecode(k)), uriEncode(safeDecode(v))] as const;
    })
    .filter(([k]) => k !== "X-Amz-Signature");
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalHeaderValue(v: string): string {
  return v.replace(/\s+/g, " ").trim();
}

/** Every value of a header as sent (rawHeaders keeps repeats that req.headers would merge). */
function headerValues(req: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === name) out.push(req.rawHeaders[i + 1] ?? "");
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const values = headerValues(req, name);
  return values.length === 0 ? undefined : values.join(",");
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : t;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

// ---------------------------------------------------------------------------------------------
// Request plumbing and input validation.

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new KmsError("ValidationException", `Request body exceeds ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: Json): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": JSON_TYPE,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
  });
  res.end(text);
}

function requireString(v: unknown, field: string, max: number, min = 1): string {
  if (typeof v !== "string" || v.length < min || v.length > max)
    throw new KmsError("ValidationException", `${field} must be a string of ${min} to ${max} characters`);
  return v;
}

function decodeBlob(v: unknown, field: string, max: number): Buffer {
  if (typeof v !== "string" || v.length === 0 || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
    throw new KmsError("ValidationException", `${field} must be a non-empty base64 blob`);
  const bytes = Buffer.from(v, "base64");
  if (bytes.length > max) throw new KmsError("ValidationException", `${field} must be at most ${max} bytes`);
  return bytes;
}

function signingAlgorithm(v: unknown): Pkcs1Algorithm {
  if (typeof v === "string" && Object.hasOwn(PKCS1, v)) return v as Pkcs1Algorithm;
  if (typeof v === "string" && SIGNING_ALGORITHMS.includes(v))
    throw new KmsError("UnsupportedOperationException", `test server implements RSASSA_PKCS1_V1_5 only, not ${v}`);
  throw new KmsError("ValidationException", `SigningAlgorithm must be one of ${SIGNING_ALGORITHMS.join(", ")}`);
}

/** DigestInfo(hash) || digest, the block PKCS#1 v1.5 pads and signs. */
function digestInfoFor(alg: Pkcs1Algorithm, message: unknown, messageType: unknown): Buffer {
  const { hash, size, prefix } = PKCS1[alg];
  const bytes = decodeBlob(message, "Message", 4096);
  let digest: Buffer;
  if (messageType === undefined || messageType === "RAW") digest = createHash(hash).update(bytes).digest();
  else if (messageType === "DIGEST") {
    if (bytes.length !== size)
      throw new KmsError("ValidationException", `Digest is invalid length for algorithm ${alg}: expected ${size} bytes`);
    digest = bytes;
  } else throw new KmsError("ValidationException", "MessageType must be RAW or DIGEST");
  return Buffer.concat([Buffer.from(prefix, "hex"), digest]);
}

function parseTags(v: unknown): { TagKey: string; TagValue: string }[] {
  if (v === undefined) return [];
  const pattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  if (!Array.isArray(v)) throw new KmsError("ValidationException", "Tags must be a list");
  return v.map((t: unknown) => {
    const tag = (typeof t === "object" && t !== null ? t : {}) as { TagKey?: unknown; TagValue?: unknown };
    if (
      typeof tag.TagKey !== "string" ||
      typeof tag.TagValue !== "string" ||
      tag.TagKey.length < 1 ||
      tag.TagKey.length > 128 ||
      tag.TagValue.length > 256 ||
      !pattern.test(tag.TagKey) ||
      !pattern.test(tag.TagValue) ||
      tag.TagKey.startsWith("aws:")
    )
      throw new KmsError("TagException", "Tags must have a TagKey of 1-128 and a TagValue of 0-256 allowed characters");
    return { TagKey: tag.TagKey, TagValue: tag.TagValue };
  });
}
