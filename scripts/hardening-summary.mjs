#!/usr/bin/env node
// Prints the hardening figures of the last test run: hostile cases × adapters, fuzz inputs
// per target, fault-injection tests. The suites under test/hostile, test/fuzz and
// test/faults each write a small JSON file to node_modules/.cache/wimse-hardening/; figures
// written before the last vitest run started (per its JSON report) are stale and skipped.
//   node scripts/hardening-summary.mjs [--only hostile|fuzz|faults]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'node_modules', '.cache', 'wimse-hardening');
const report = join(root, 'node_modules', '.cache', 'vitest', 'results.json');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;

// A little slack: the report's startTime and the figures' timestamps come from different processes.
const since = existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')).startTime - 5000 : 0;
const figures = existsSync(dir)
  ? readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')))
      .filter((figure) => figure.writtenAt >= since)
  : [];
const group = (prefix) => figures.filter((figure) => figure.name.startsWith(prefix));
const number = (value) => value.toLocaleString('en-US');

const lines = [];
if (only === undefined || only === 'hostile') {
  const rows = group('hostile:');
  if (rows.length > 0) {
    const cases = Math.max(...rows.map((row) => row.count));
    const exchanges = rows.reduce((sum, row) => sum + row.count, 0);
    lines.push(
      `hostile corpus: ${number(cases)} cases × ${rows.length} adapters = ${number(exchanges)} HTTP exchanges`,
    );
    for (const row of rows) lines.push(`  ${row.name.slice('hostile:'.length)}: ${number(row.count)} cases`);
  }
}
if (only === undefined || only === 'fuzz') {
  const rows = group('fuzz:');
  if (rows.length > 0) {
    lines.push(
      `fuzzing: ${rows.length} targets, ${number(rows.reduce((sum, row) => sum + row.count, 0))} generated inputs`,
    );
    for (const row of rows) lines.push(`  ${row.name.slice('fuzz:'.length)}: ${number(row.count)} inputs`);
  }
}
if (only === undefined || only === 'faults') {
  const rows = group('faults');
  if (rows.length > 0) {
    lines.push(`fault injection: ${number(rows.reduce((sum, row) => sum + row.count, 0))} fault tests`);
    if (rows.length > 1) for (const row of rows) lines.push(`  ${row.name}: ${number(row.count)}`);
  }
}

console.log(
  lines.length === 0 ? 'hardening: no figures from this run' : ['hardening figures', ...lines].join('\n'),
);
