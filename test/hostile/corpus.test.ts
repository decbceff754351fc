// The corpus itself: unique ids, a description and expectation each, every category of the
// hardening issue covered, and no case that would be accepted by construction.
import { describe, expect, it } from 'vitest';
import type { Category } from './case.js';
import { CORPUS } from './corpus/index.js';
import { createKit } from './kit.js';

describe('hostile corpus', () => {
  it('has at least 200 cases with unique ids', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(200);
    const ids = CORPUS.map((testCase) => testCase.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-zA-Z0-9]+)+$/);
  });

  it('covers every category', () => {
    const categories: Category[] = [
      'jose',
      'claims',
      'identifiers',
      'http',
      'binding',
      'trust',
      'authorization',
    ];
    for (const category of categories) {
      expect(CORPUS.filter((testCase) => testCase.category === category).length, category).toBeGreaterThan(0);
    }
  });

  it('expects a refusal of every case, and parser statuses only without a code', () => {
    for (const { expect: want, description } of CORPUS) {
      expect(description.length).toBeGreaterThan(0);
      if ('parser' in want) expect([400, 431]).toContain(want.status);
      else expect([401, 403, 503]).toContain(want.status);
    }
  });

  it('builds every exchange from the kit', () => {
    const kit = createKit();
    for (const testCase of CORPUS) {
      const { requests } = testCase.build(kit);
      expect(requests.length, testCase.id).toBeGreaterThan(0);
    }
  });
});
