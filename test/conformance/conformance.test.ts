import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../support/trust-domain.js';
import { CASES, type ConformanceCase } from './cases.js';
import { type AdapterSetup, close, send, serverConfig } from './harness.js';
import { SETUPS } from './setups.js';

const td = createTestTrustDomain();

function tokensIn(headers: Record<string, string | string[]>): string[] {
  return Object.values(headers)
    .flat()
    .flatMap((value) => value.split(/[ ,]+/))
    .filter((part) => part.split('.').length === 3 && part.length > 40);
}

function challengeFor(header: string | string[] | undefined): string {
  return Array.isArray(header) ? header.join(', ') : (header ?? '');
}

async function check(setup: AdapterSetup, server: Server, testCase: ConformanceCase): Promise<void> {
  const headers = testCase.headers(td);
  if (testCase.precededBy !== undefined) {
    const first = await send(server, testCase.route, testCase.precededBy());
    expect(first.status, `the preceding request: ${first.body}`).toBe(200);
  }
  let result = await send(server, testCase.route, headers);
  for (let i = 1; i < (testCase.repeat ?? 1); i++) {
    expect(result.status, 'first of the repeated requests').toBe(200);
    result = await send(server, testCase.route, headers);
  }
  const { expect: want } = testCase;
  expect(result.status, result.body).toBe(want.status);

  // Token material never comes back, in the body or any header.
  for (const token of tokensIn(headers)) {
    expect(result.body).not.toContain(token.split('.')[2]);
    expect(JSON.stringify(result.headers)).not.toContain(token.split('.')[2]);
  }

  const challenge = challengeFor(result.headers['www-authenticate']);
  if (want.status === 401) {
    expect(challenge).toMatch(/(^|, )WPT( |,|$)/);
    expect(challenge).toMatch(/(^|, )Bearer( |,|$)/);
    if (want.challengeError === 'WPT') expect(challenge).toContain(`WPT error="${want.code}"`);
    if (want.challengeError === 'Bearer') expect(challenge).toContain(`error_description="${want.code}"`);
    if (want.challengeError === 'none') expect(challenge).not.toContain('error=');
  } else {
    expect(challenge).toBe('');
  }

  if (want.status === 200) {
    expect(JSON.parse(result.body)).toEqual({ principal: want.principal });
    return;
  }
  if (setup.bodyFormat(want.status) === 'problem') {
    expect(String(result.headers['content-type'])).toContain('application/problem+json');
    expect(JSON.parse(result.body)).toMatchObject({ status: want.status, code: want.code });
  } else {
    expect(result.body.length).toBeGreaterThan(0);
  }
}

for (const setup of SETUPS) {
  describe(`conformance: ${setup.name}`, () => {
    let server: Server;
    beforeAll(async () => {
      server = await setup.start(serverConfig(td));
    });
    afterAll(async () => {
      await close(server);
    });
    for (const testCase of CASES) {
      it(`${testCase.id}: ${testCase.description}`, () => check(setup, server, testCase));
    }
  });
}
