import { startChild, type Child } from "./child.ts";

/**
 * `openssl ocsp` as a responder over the CA's index.txt. `-multi` forks worker processes (OpenSSL
 * 3.0+ on Unix). It binds every interface (neither -port nor -url takes an address in 3.0); the
 * benchmark only ever connects to 127.0.0.1. It answers HTTP/1.0 and closes each connection.
 */
export function startOcspResponder(dir: string, port: number, workers: number): Promise<Child> {
  const args = ["ocsp", "-index", "index.txt", "-port", String(port), "-rsigner", "issuing.pem", "-rkey", "issuing.key",
    "-CA", "issuing.pem", "-ignore_err", "-nmin", "1"];
  if (workers > 1) args.push("-multi", String(workers));
  return startChild("openssl", args, { cwd: dir, ready: /ACCEPT \S+:(\d+)/, timeoutMs: 10_000, detached: false });
}
