// The conformance table over gRPC: each HTTP expectation as a gRPC status (401 →
// UNAUTHENTICATED, 403 → PERMISSION_DENIED, 503 → UNAVAILABLE) with the same `wimse-error`
// code in trailing metadata, and the same principal seen by the handler on success.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, type ConformanceCase } from '../conformance/cases.js';
import { serverConfig } from '../conformance/harness.js';
import { createTestTrustDomain } from '../support/trust-domain.js';
import { Conformance, GRPC_SETUPS, type GrpcServer, type GrpcSetup, METHOD_OF, type Seen } from './setups.js';

const td = createTestTrustDomain();

const STATUS_OF = {
  200: grpc.status.OK,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  503: grpc.status.UNAVAILABLE,
} as const;

/**
 * Cases gRPC cannot carry: grpc-js refuses to send `authorization` twice, and Node's HTTP/2
 * server keeps only the first `authorization` field it receives, so a grpc-js server cannot
 * see the duplicate this case sends (the first value is then judged on its own, never a
 * weaker reading of both).
 */
const NOT_EXPRESSIBLE: Readonly<Record<string, string>> = {
  'credentials-malformed-duplicate-authorization':
    'HTTP/2 in Node keeps one authorization field; repeated credential keys are covered in test/grpc/e2e.test.ts',
};

interface Outcome {
  code: grpc.status;
  details: string;
  trailers: Record<string, string[]>;
  reply: Seen | undefined;
}

type UnaryMethod = (
  this: grpc.Client,
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply?: Seen) => void,
) => grpc.ClientUnaryCall;

function call(
  client: grpc.Client,
  method: string,
  headers: Record<string, string | string[]>,
): Promise<Outcome> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(key, one);
  }
  const rpc = method.split('/')[2]!;
  return new Promise((resolve) => {
    (client as unknown as Record<string, UnaryMethod>)[rpc]!.call(
      client,
      {},
      metadata,
      { deadline: Date.now() + 10_000 },
      (error: grpc.ServiceError | null, reply?: Seen) => {
        const trailers: Record<string, string[]> = {};
        for (const key of Object.keys(error?.metadata.getMap() ?? {})) {
          trailers[key] = error!.metadata.get(key).map(String);
        }
        resolve({
          code: error ? error.code : grpc.status.OK,
          details: error?.details ?? '',
          trailers,
          reply,
        });
      },
    );
  });
}

function tokensIn(headers: Record<string, string | string[]>): string[] {
  return Object.values(headers)
    .flat()
    .flatMap((value) => value.split(/[ ,]+/))
    .filter((part) => part.split('.').length === 3 && part.length > 40);
}

async function check(client: grpc.Client, testCase: ConformanceCase, logged: string[]): Promise<void> {
  const headers = testCase.headers(td);
  const method = METHOD_OF[testCase.route];
  let outcome = await call(client, method, headers);
  for (let i = 1; i < (testCase.repeat ?? 1); i++) {
    expect(outcome.code, 'first of the repeated calls').toBe(grpc.status.OK);
    outcome = await call(client, method, headers);
  }
  const want = testCase.expect;
  expect(outcome.code, outcome.details).toBe(STATUS_OF[want.status]);

  for (const token of tokensIn(headers)) {
    const signature = token.split('.')[2]!;
    expect(outcome.details).not.toContain(signature);
    expect(JSON.stringify(outcome.trailers)).not.toContain(signature);
    expect(logged.join('\n')).not.toContain(signature);
  }

  if (want.status === 200) {
    const principal = want.principal ?? null;
    expect(outcome.reply).toEqual(
      principal === null
        ? { has_principal: false, id: '', trust_domain: '', credential: '', credential_form: '' }
        : {
            has_principal: true,
            id: principal.id,
            trust_domain: principal.trustDomain,
            credential: principal.credential,
            credential_form: principal.credentialForm,
          },
    );
    return;
  }
  expect(outcome.trailers['wimse-error']).toEqual([want.code]);
}

for (const setup of GRPC_SETUPS) {
  describe(`gRPC conformance: ${setup.name}`, () => {
    let server: GrpcServer;
    let client: grpc.Client;
    const logged: string[] = [];
    beforeAll(async () => {
      server = await setup.start({ ...serverConfig(td), log: (line) => logged.push(line) });
      client = new Conformance(server.target, grpc.credentials.createInsecure());
    });
    afterAll(async () => {
      client?.close();
      await server?.close();
    });
    for (const testCase of CASES) {
      const skipped = NOT_EXPRESSIBLE[testCase.id] ?? (setup as GrpcSetup).unsupported[testCase.route];
      it.skipIf(skipped !== undefined)(`${testCase.id}: ${testCase.description}`, () =>
        check(client, testCase, logged),
      );
    }
  });
}
