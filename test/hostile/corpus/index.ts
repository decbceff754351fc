// The whole corpus, generated from the tables in this directory. corpus.test.ts checks that
// ids are unique and that every category is covered.
import type { HostileCase } from '../case.js';
import { CLAIM_CASES } from './claims.js';
import { HTTP_CASES } from './http.js';
import { IDENTIFIER_CASES } from './identifiers.js';
import { JOSE_CASES } from './jose.js';

export const CORPUS: readonly HostileCase[] = [
  ...JOSE_CASES,
  ...CLAIM_CASES,
  ...IDENTIFIER_CASES,
  ...HTTP_CASES,
];
