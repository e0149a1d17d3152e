// Prints the plain closing line the workplace reads: "N passed, N failed[, N skipped]". Jest prints its own
// summary after every reporter, so the line also goes to RUNLINE_TEST_SUMMARY_FILE for scripts/test.sh to
// print last.
const fs = require("node:fs");

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
    process.stderr.write(`\n${line}\n`);
    if (process.env.RUNLINE_TEST_SUMMARY_FILE) fs.writeFileSync(process.env.RUNLINE_TEST_SUMMARY_FILE, `${line}\n`);
  }
}
module.exports = SummaryReporter;
