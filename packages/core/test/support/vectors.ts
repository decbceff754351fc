import { readFileSync } from 'node:fs';

/** Reads a JSON file of the shared vectors folder that sits beside the repository. */
// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON whose shape each test knows.
export function readVector<T = any>(relativePath: string): T {
  const url = new URL(`../../../../../shared/vectors/${relativePath}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}
