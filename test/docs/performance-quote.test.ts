import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${repoRoot}/${path}`, 'utf8');

/** The text between `<!-- quote: path -->` and `<!-- /quote -->` markers, by quoted path. */
function quotes(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of markdown.matchAll(/<!-- quote: (\S+) -->\n([\s\S]*?)<!-- \/quote -->/g)) {
    found.set(match[1]!, match[2]!);
  }
  return found;
}

// docs/performance.md quotes the benchmark results files; a re-run that is not copied into
// the page (or an edit of the page's figures by hand) fails here.
describe('docs/performance.md', () => {
  const quoted = quotes(read('docs/performance.md'));

  it('quotes both results files', () => {
    expect([...quoted.keys()].sort()).toEqual(['bench/results/latest.md', 'bench/results/soak.md']);
  });

  it.each(['bench/results/latest.md', 'bench/results/soak.md'])(
    'quotes %s exactly, minus its title',
    (path) => {
      const body = read(path).replace(/^# .*\n\n/, '');
      expect(quoted.get(path)).toBe(body);
    },
  );
});
