import { afterAll, beforeAll, expect, it } from "vitest";
import { originSigner, signRequest } from "../src/index.ts";
import { type HungServer, startHungServer } from "./hung-server.ts";

// signRequest copies the caller's request, signal included, but the signing exchange it waits for
// did not follow that signal: a caller that gave up on its request (its own deadline, a user who
// cancelled) still had the origin sign for it and waited for the exchange, up to the signer's
// timeoutMs (10 s by default), holding a socket to the origin meanwhile.
let hung: HungServer;
beforeAll(async () => {
  hung = await startHungServer();
});
afterAll(() => hung.close());

const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";
/** A deadline no test reaches: only the caller's abort can end the exchange. */
const signer = () => originSigner({ originUrl: hung.url, credential: "kka_test", agentId: "a1", timeoutMs: 600_000 });
const request = (signal: AbortSignal) => new Request("https://api.example.com/api/orders", { method: "POST", body: "{}", signal });

async function until(done: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!done() && Date.now() - t0 < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
}

it("a request already aborted is not signed: no signing exchange with the origin", async () => {
  const seen = hung.closed() + hung.open();
  const reason = new Error("caller gave up");
  await expect(signRequest(request(AbortSignal.abort(reason)), { serial: SERIAL, signer: signer() })).rejects.toBe(reason);
  expect(hung.closed() + hung.open()).toBe(seen);
});

it("aborting the request while it is being signed ends the signing exchange and closes its connection", async () => {
  const closedBefore = hung.closed();
  const caller = new AbortController();
  const signing = signRequest(request(caller.signal), { serial: SERIAL, signer: signer() });
  const settled = signing.then(
    () => "signed",
    (e: unknown) => e,
  );
  await until(() => hung.open() > 0);
  expect(hung.open()).toBe(1);
  const reason = new Error("caller gave up");
  caller.abort(reason);
  await until(() => hung.closed() > closedBefore && hung.open() === 0);
  expect(hung.open()).toBe(0);
  expect(await settled).toBe(reason);
});

it("a signal that never aborts is left without the signer's listener once signing ended", async () => {
  // One long-lived signal for many requests (an agent's shutdown signal): each exchange must not
  // leave a listener on it, or they add up for the life of the process.
  const caller = new AbortController();
  const listeners: string[] = [];
  const add = caller.signal.addEventListener.bind(caller.signal);
  const remove = caller.signal.removeEventListener.bind(caller.signal);
  caller.signal.addEventListener = ((type: string, l: EventListenerOrEventListenerObject, o?: AddEventListenerOptions | boolean) => {
    listeners.push(type);
    add(type, l, o);
  }) as typeof caller.signal.addEventListener;
  caller.signal.removeEventListener = ((type: string, l: EventListenerOrEventListenerObject, o?: EventListenerOptions | boolean) => {
    listeners.splice(listeners.indexOf(type), 1);
    remove(type, l, o);
  }) as typeof caller.signal.removeEventListener;
  const quick = originSigner({ originUrl: hung.url, credential: "kka_test", agentId: "a1", timeoutMs: 200 });
  await expect(quick.sign(new Uint8Array(1), { serial: SERIAL, signal: caller.signal })).rejects.toThrow(/did not answer within 200 ms/);
  expect(listeners).toEqual([]);
});
