// Figures for the hardening summary printed at the end of `npm test` (scripts/hardening-summary.mjs).
// Each suite writes its own small JSON file, so parallel workers never write the same file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HARDENING_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  '.cache',
  'wimse-hardening',
);

/** Records one figure (`name` → `count`), timestamped so the summary can skip stale runs. */
export function recordHardeningFigure(
  name: string,
  count: number,
  detail: Record<string, unknown> = {},
): void {
  mkdirSync(HARDENING_DIR, { recursive: true });
  const file = join(HARDENING_DIR, `${name.replace(/[^A-Za-z0-9.-]+/g, '_')}.json`);
  writeFileSync(file, `${JSON.stringify({ name, count, ...detail, writtenAt: Date.now() })}\n`);
}
