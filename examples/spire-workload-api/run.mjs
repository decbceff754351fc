// `npm start`: the service takes its trust from the SPIFFE Workload API at SPIFFE_ENDPOINT_SOCKET.
// Without SPIFFE_ENDPOINT_SOCKET, a fake SPIRE agent (from @wimse-auth/testing) is started on a
// temporary unix socket, and a caller gets JWT-SVIDs from it and calls the service: one accepted,
// one for another audience refused, then, after the agent rotated its keys, the old token refused
// and a new one accepted. Exits
// non-zero if an outcome is not the expected one. With SPIFFE_ENDPOINT_SOCKET set (a real SPIRE
// agent), it only serves.
import { once } from 'node:events';
import { jwtSvidFetch } from '@wimse-auth/client';
import { TrustDomain } from '@wimse-auth/core';
import { WorkloadApiJwtSource } from '@wimse-auth/workload-api';
import { connectTrust, createApp } from './server.mjs';

const audience = process.env.WIMSE_JWT_SVID_AUDIENCE || 'spiffe://example.org/server';
const EXAMPLE_ORG = TrustDomain.parse('example.org');
let agent;
if (!process.env.SPIFFE_ENDPOINT_SOCKET) {
  // Imported lazily, so production needs no test package.
  const { startFakeWorkloadApi } = await import('@wimse-auth/testing/workload-api');
  agent = await startFakeWorkloadApi({ identities: ['/client'] });
  process.env.SPIFFE_ENDPOINT_SOCKET = agent.endpoint;
  console.log(`fake SPIRE agent (trust domain example.org) on ${agent.endpoint}`);
}

const trust = await connectTrust();
const server = createApp({ trust, audience }).listen(
  Number(process.env.PORT ?? 8080),
  process.env.HOST || '127.0.0.1',
);
await once(server, 'listening');
const { address, port } = server.address();
const serviceUrl = `http://${address}:${port}`;
console.log(`service on ${serviceUrl}, trust from the Workload API at ${process.env.SPIFFE_ENDPOINT_SOCKET}`);
console.log(
  `trusted trust domains: ${trust.trustDomains.join(', ')}; JWT-SVID audience accepted: ${audience}\n`,
);

if (!agent) {
  console.log('serving until stopped (Ctrl-C)');
  const stop = async () => {
    server.close();
    await trust.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  const failures = await callAsWorkload(agent);
  server.close();
  await trust.close();
  await agent.close();
  console.log(failures === 0 ? '\nall outcomes as expected' : `\n${failures} unexpected outcome(s)`);
  process.exitCode = failures === 0 ? 0 : 1;
}

async function callAsWorkload(agent) {
  // The calling workload gets its JWT-SVIDs from the same agent, as it would from SPIRE; the
  // source caches each token until shortly before it expires.
  const svids = new WorkloadApiJwtSource();
  const call = (source, aud) =>
    jwtSvidFetch({ token: source.tokenProvider({ audience: aud }) })(`${serviceUrl}/`);
  const steps = [
    ['JWT-SVID for the service', () => call(svids, audience), 200, 'spiffe://example.org/client'],
    [
      'JWT-SVID for another audience',
      () => call(svids, 'spiffe://example.org/other'),
      401,
      'audience_mismatch',
    ],
    [
      'old-key JWT-SVID after key rotation',
      async () => {
        // The agent rotates its signing keys and drops the old ones; the service's bundle follows.
        const before = trust.getBundle(EXAMPLE_ORG);
        // One message carrying only the new keys.
        agent.trustDomain.rotateKeys();
        agent.trustDomain.dropRetiredKeys();
        agent.publishBundles();
        await bundleChange(before);
        return call(svids, audience); // the cached token, signed with the dropped key
      },
      401,
      'unknown_key',
    ],
    [
      'new JWT-SVID after key rotation',
      async () => {
        const fresh = new WorkloadApiJwtSource();
        try {
          return await call(fresh, audience);
        } finally {
          await fresh.close();
        }
      },
      200,
      'spiffe://example.org/client',
    ],
  ];
  let failures = 0;
  for (const [label, send, expectedStatus, expectedResult] of steps) {
    const response = await send();
    const body = await response.json();
    const result = response.status === 200 ? `${body.caller} (${body.credential})` : body.code;
    const ok = response.status === expectedStatus && result.includes(expectedResult);
    if (!ok) failures++;
    const verdict = ok ? '' : `   ✗ expected ${expectedStatus} ${expectedResult}`;
    console.log(`${label.padEnd(38)}${response.status}  ${result}${verdict}`);
  }
  await svids.close();
  return failures;
}

/** Waits (at most 10 s) until the service holds a bundle for example.org other than `before`. */
async function bundleChange(before) {
  const deadline = Date.now() + 10_000;
  while (trust.getBundle(EXAMPLE_ORG) === before) {
    if (Date.now() > deadline) throw new Error('the rotated bundle did not arrive within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
