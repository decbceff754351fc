// `npm start`: the orders API (server.mjs), then a calling workload making a few calls with
// WIT + WPT. Exits non-zero if an outcome is not the expected one. With WIMSE_BUNDLE_FILE set it
// only serves, for your own workloads to call.
import { once } from 'node:events';
import { wimseFetch } from '@wimse-auth/client';
import { describeTrust, loadConfig } from '../shared/config.mjs';
import { createApp } from './server.mjs';

const config = await loadConfig({
  port: 8080,
  // The service is reachable under two names: inside the cluster and through the ingress.
  audienceOrigins: 'https://orders.internal.example.org,https://orders.example.org',
  jwtSvidAudience: 'spiffe://example.org/orders',
});
const server = createApp(config).listen(config.port, config.host);
await once(server, 'listening');
const serviceUrl = `http://${config.host}:${server.address().port}`;
console.log(`orders API on ${serviceUrl}, ${describeTrust(config)}`);
console.log(`proof audiences accepted: ${config.audience.origins.join(', ')} (+ the request path)\n`);
if (!config.localTrustDomain) {
  console.log('serving until stopped (Ctrl-C)');
} else {
  const failures = await callAsBilling(config.localTrustDomain);
  server.close();
  process.exit(failures === 0 ? 0 : 1);
}

async function callAsBilling(trustDomain) {
  // The calling workload: its WIT and the private key the WIT's cnf.jwk confirms.
  const billing = trustDomain.issueWit({ sub: '/ns/prod/sa/billing' });
  let lastRequest; // what an attacker on the path could capture
  const capturingFetch = (url, init) => {
    lastRequest = { url, init };
    return fetch(url, init);
  };
  // Everything here listens on 127.0.0.1, so the proof names the origin a caller would use
  // (https://orders.example.org). Calling that name directly, you would leave `audience` out.
  const asBilling = (origin) =>
    wimseFetch({
      wit: billing.token,
      privateKey: billing.workloadKey.privateKey,
      audience: (target) => `${origin}${target.pathname}`,
      fetch: capturingFetch,
    });

  const calls = [
    [
      'proof for the internal name',
      () => asBilling('https://orders.internal.example.org')(`${serviceUrl}/orders`),
      200,
      'billing',
    ],
    [
      'proof for the external name',
      () => asBilling('https://orders.example.org')(`${serviceUrl}/orders`),
      200,
      'billing',
    ],
    ['captured request sent again', () => fetch(lastRequest.url, lastRequest.init), 401, 'replay_detected'],
    [
      'proof for another service',
      () => asBilling('https://inventory.example.org')(`${serviceUrl}/orders`),
      401,
      'audience_mismatch',
    ],
  ];
  let failures = 0;
  for (const [call, send, expectedStatus, expectedResult] of calls) {
    const response = await send();
    const result = await outcome(response);
    const ok = response.status === expectedStatus && result.includes(expectedResult);
    if (!ok) failures++;
    const verdict = ok ? '' : `   ✗ expected ${expectedStatus} ${expectedResult}`;
    console.log(`${call.padEnd(32)}${response.status}  ${result}${verdict}`);
  }
  console.log(failures === 0 ? '\nall outcomes as expected' : `\n${failures} unexpected outcome(s)`);
  return failures;
}

// The caller on success; on failure the error code (from the problem+json body).
async function outcome(response) {
  const body = await response.json();
  return response.ok ? `${body.caller} (${body.credential})` : body.code;
}
