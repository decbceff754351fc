#!/usr/bin/env node
// Copies the benchmark results files into docs/performance.md, between its
// `<!-- quote: bench/results/<file> -->` and `<!-- /quote -->` markers (titles dropped).
// Run after a full `npm run bench:http` / `npm run bench:soak`; test/docs checks they agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = `${root}/docs/performance.md`;
const markdown = readFileSync(page, 'utf8');
let quoted = 0;
const updated = markdown.replace(
  /(<!-- quote: (\S+) -->\n)[\s\S]*?(<!-- \/quote -->)/g,
  (_m, open, path, close) => {
    quoted++;
    return `${open}${readFileSync(`${root}/${path}`, 'utf8').replace(/^# .*\n\n/, '')}${close}`;
  },
);
if (quoted === 0) throw new Error('docs/performance.md has no <!-- quote: … --> markers');
writeFileSync(page, updated);
console.log(`docs/performance.md: ${quoted} results quoted`);
