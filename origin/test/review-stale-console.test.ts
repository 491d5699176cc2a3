import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleSignIn } from "./console-session.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";
import { flaggableAgent } from "./review-fixtures.ts";

/**
 * The console's review form carries what its page showed, so a decision on a queue that changed
 * since is refused (review-stale). A count alone does not say which alerts: two reviewers load the
 * queue (one alert); the first clears it, the clear's monitor re-alerts on what the agent did after
 * that alert (`after-review`, at once), and the second reviewer's decision, made on the first alert,
 * found one open alert again and closed the new one unseen. The form also sends the shown alerts'
 * opening time, which a decision since has changed.
 */
describe.each(dbKinds())("the console's review form on a queue decided and re-opened since it was loaded (%s)", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  /** The review form's fields for `agent` on the queue page, as a browser would send them, with a decision. */
  async function formFields(cookie: string, agent: string): Promise<Record<string, string>> {
    const page = await (await o.request("GET", "/console/reviews", { key: null, headers: { cookie: `kakunin_session=${cookie}` } })).text();
    const formHtml = new RegExp(`<form[^>]*action="/console/agents/${agent}/review"[\\s\\S]*?</form>`).exec(page)![0];
    const fields: Record<string, string> = { decision: "clear", reason: "looked fine" };
    for (const m of formHtml.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replaceAll("&amp;", "&");
    return fields;
  }

  it("the second reviewer's stale form is refused, not applied to the new alert", async () => {
    const { agent, alert } = await flaggableAgent(o);
    expect((await alert(`a1-${agent}`))?.decision).toBe("flagged");

    // The second reviewer's page: the form's fields as the browser would send them.
    const cookie = (await consoleSignIn(o, o.adminKey)).cookie!;
    const fields = await formFields(cookie, agent);
    expect(fields["alerts"]).toBe("1");

    // Meanwhile the first reviewer clears it, and the agent is flagged again (the after-review alert).
    await new Promise((r) => setTimeout(r, 5));
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: "first", alerts: 1 } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    expect((await alert(`a2-${agent}`))?.decision).toBe("flagged");

    const send = (f: Record<string, string>) =>
      o.request("POST", `/console/agents/${agent}/review`, {
        key: null,
        rawBody: new URLSearchParams(f).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `kakunin_session=${cookie}` },
      });
    const res = await send(fields);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("error=review-stale");
    const queue = (await o.json<{ data: { agent_id: string; alerts: number }[] }>("GET", "/v1/reviews?limit=200")).body.data;
    expect(queue.find((i) => i.agent_id === agent)?.alerts).toBe(1);

    // A tampered time is a bad form; the page loaded again decides.
    expect((await send({ ...fields, opened_at: "yesterday" })).headers.get("location")).toContain("error=invalid-form");
    const now = await formFields(cookie, agent);
    expect(now["opened_at"]).not.toBe(fields["opened_at"]);
    expect((await send(now)).headers.get("location")).toContain("done=clear");
  });
});
