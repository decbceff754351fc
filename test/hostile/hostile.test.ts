// Runs the hostile corpus over real HTTP through every adapter set-up of the conformance
// suite. Each case must be refused with its status and error code, within a second, without
// any of the token material it sent showing up in the response or in the captured logs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, type ServerConfig } from '../conformance/harness.js';
import { SETUPS } from '../conformance/setups.js';
import type { Exchange, HostileCase } from './case.js';
import { CORPUS } from './corpus/index.js';
import { ADMIN_ID, CONTEXT_TOKEN_HEADER, createKit, ISSUER, ORIGIN } from './kit.js';
import { exchange, type RawResponse, serialise } from './raw-http.js';
import { recordHardeningFigure } from './report.js';

/** "Never a hang over 1 s": the whole exchange, pipelined requests included. */
const CASE_TIME_LIMIT_MS = 1000;

const kit = createKit();

/**
 * Token material a case sent: every run of base64url characters long enough to be a
 * signature, payload or key fragment. None may come back or be logged.
 */
function secretsIn(request: Exchange): string[] {
  const secrets = new Set<string>();
  for (const { headers } of request.requests) {
    for (const [, value] of headers) {
      const text = typeof value === 'string' ? value : value.toString('latin1');
      for (const run of text.match(/[A-Za-z0-9_-]{24,}/g) ?? []) secrets.add(run);
    }
  }
  return [...secrets];
}

function challenge(response: RawResponse): string {
  return response.headers
    .filter(([name]) => name === 'www-authenticate')
    .map(([, value]) => value)
    .join(', ');
}

/**
 * The error codes an adapter reported: in the challenge of the scheme tried (`WPT error=`,
 * or `Bearer … error_description=` next to RFC 6750's generic `error`), and in problem bodies.
 */
function reportedCodes(response: RawResponse): string[] {
  const codes: string[] = [];
  for (const match of challenge(response).matchAll(/WPT error="([a-z_]+)"|error_description="([a-z_]+)"/g)) {
    codes.push((match[1] ?? match[2])!);
  }
  try {
    const body = JSON.parse(response.body) as { code?: unknown };
    if (typeof body.code === 'string') codes.push(body.code);
  } catch {
    // Opaque bodies (Koa's text, Passport's "Unauthorized") carry no code.
  }
  return codes;
}

function checkRejection(testCase: HostileCase, response: RawResponse): void {
  const want = testCase.expect;
  expect(response.status, `status; body: ${response.body.slice(0, 300)}`).toBe(want.status);
  if ('parser' in want) return;
  const codes = reportedCodes(response);
  if (want.status === 401) {
    expect(challenge(response), 'WPT and Bearer challenges').toMatch(/(^|, )WPT( |,|$)/);
    if (want.code === 'credentials_missing') expect(challenge(response)).not.toContain('error=');
    else expect(codes, 'the challenge names the error code').toContain(want.code);
  }
  // 403 and 503 have one code each; problem bodies must carry it, opaque bodies cannot.
  for (const code of codes) expect(code).toBe(want.code);
}

const LOG_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

for (const setup of SETUPS) {
  describe(`hostile corpus: ${setup.name}`, () => {
    let server: Server;
    let port: number;
    const logs: string[] = [];

    beforeAll(async () => {
      for (const method of LOG_METHODS) {
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          logs.push(format(...args));
        });
      }
      const config: ServerConfig = {
        trust: kit.trust,
        audience: { origins: [ORIGIN] },
        issuers: { 'example.org': [ISSUER], 'other.example': [ISSUER] },
        adminId: ADMIN_ID,
        otherTokenHeaders: [CONTEXT_TOKEN_HEADER],
        log: (line) => logs.push(line),
      };
      server = await setup.start(config);
      port = (server.address() as AddressInfo).port;
      // One request first, so lazy initialisation does not count against the first case.
      await exchange(
        port,
        Buffer.from('GET /orders HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
        10_000,
      );
    });

    afterAll(async () => {
      vi.restoreAllMocks();
      await close(server);
      recordHardeningFigure(`hostile:${setup.name}`, CORPUS.length, { logLines: logs.length });
    });

    for (const testCase of CORPUS) {
      it(`${testCase.id}: ${testCase.description}`, async () => {
        const request = testCase.build(kit);
        const logStart = logs.length;
        const started = performance.now();
        const responses = await exchange(port, serialise(request.requests), CASE_TIME_LIMIT_MS * 5);
        const elapsed = performance.now() - started;

        expect(responses, 'one response per request').toHaveLength(request.requests.length);
        if (request.race) {
          const refused = responses.filter((response) => response.status !== 200);
          expect(responses.length - refused.length, 'exactly one of the racing copies accepted').toBe(1);
          for (const response of refused) checkRejection(testCase, response);
        } else {
          for (const earlier of responses.slice(0, -1)) expect(earlier.status, earlier.body).toBe(200);
          checkRejection(testCase, responses.at(-1)!);
        }
        expect(elapsed, 'answered within the time limit').toBeLessThan(CASE_TIME_LIMIT_MS);

        const answered = responses
          .map((response) => `${response.headers.map(([n, v]) => `${n}: ${v}`).join('\n')}\n${response.body}`)
          .join('\n');
        const logged = logs.slice(logStart).join('\n');
        for (const secret of secretsIn(request)) {
          expect(answered.includes(secret), 'token material in the response').toBe(false);
          expect(logged.includes(secret), 'token material in the logs').toBe(false);
        }
      });
    }
  });
}
