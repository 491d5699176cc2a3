// The closing line CI reads, "N passed, N failed[, N skipped]", from vitest's JSON report.
// usage: node scripts/test-summary.mjs <vitest.json> <lint failed: 0|1> [vitest exit code]
//
// A test file that fails outside its tests (an import error, a beforeAll that throws: a service
// that did not start) reports its tests as skipped, not failed, and vitest's numFailedTests stays
// 0: the line said "0 failed" for a run that had failed. Each such file counts as one failure, as
// does a failed lint. An unhandled error (a timer that throws after its test) fails vitest's run
// but not its report (`success` ignores it): a run vitest failed is at least 1 failed.
import { readFileSync } from "node:fs";

const [file, lint, exitCode] = process.argv.slice(2);
const r = JSON.parse(readFileSync(file, "utf8"));
const brokenFiles = (r.testResults ?? []).filter((t) => t.status === "failed" && !(t.assertionResults ?? []).some((a) => a.status === "failed")).length;
let failed = r.numFailedTests + brokenFiles + Number(lint ?? 0);
if ((r.success === false || Number(exitCode ?? 0) !== 0) && failed === 0) failed = 1;
console.log(`${r.numPassedTests} passed, ${failed} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""}`);
