// Prints the vitest JSON report of the last run as one plain closing line for CI logs:
// "<label>: N passed, N failed" (and ", N skipped" when any were skipped).
import { readFileSync } from 'node:fs';

const label = process.argv[2] ?? 'tests';
const report = JSON.parse(readFileSync('node_modules/.cache/vitest/results.json', 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
const line = `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`;
console.log(skipped > 0 ? `${line}, ${skipped} skipped` : line);
process.exitCode = report.numFailedTests > 0 || report.numTotalTests === 0 ? 1 : 0;
