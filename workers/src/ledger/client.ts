/** How Worker code reaches the ledger: one named instance holds every record. */
export function ledger(env: Env): DurableObjectStub<import("./status-ledger.ts").StatusLedger> {
  return env.STATUS_LEDGER.getByName("global");
}
