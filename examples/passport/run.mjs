// `npm start`: the API (server.mjs), then three workloads calling GET /me with WIT + WPT, and a
// call without credentials. Exits non-zero if an outcome is not the expected one. With
// WIMSE_BUNDLE_FILE set it only serves, for your own workloads to call.
import { once } from 'node:events';
import { wimseFetch } from '@wimse-auth/client';
import { describeTrust, loadConfig } from '../shared/config.mjs';
import { createApp } from './server.mjs';

const config = await loadConfig({
  port: 8082,
  audienceOrigins: 'https://accounts.example.org',
  jwtSvidAudience: 'spiffe://example.org/accounts',
});
const server = createApp(config).listen(config.port, config.host);
await once(server, 'listening');
const serviceUrl = `http://${config.host}:${server.address().port}`;
console.log(`accounts API on ${serviceUrl}, ${describeTrust(config)}`);
console.log(`proof audiences accepted: ${config.audience.origins.join(', ')} (+ the request path)\n`);
if (!config.localTrustDomain) {
  console.log('serving until stopped (Ctrl-C)');
} else {
  const failures = await callAs(config.localTrustDomain);
  server.close();
  process.exit(failures === 0 ? 0 : 1);
}

async function callAs(trustDomain) {
  // A workload of the trust domain: its WIT and the private key the WIT's cnf.jwk confirms.
  // Everything here listens on 127.0.0.1, so the proof names the origin a caller would use.
  const asWorkload = (path) => {
    const { token, workloadKey } = trustDomain.issueWit({ sub: path });
    return wimseFetch({
      wit: token,
      privateKey: workloadKey.privateKey,
      audience: (target) => `https://accounts.example.org${target.pathname}`,
    });
  };

  const calls = [
    ['billing', () => asWorkload('/ns/prod/sa/billing')(`${serviceUrl}/me`), 200, 'billing [orders:read]'],
    ['admin', () => asWorkload('/ns/prod/sa/admin')(`${serviceUrl}/me`), 200, 'orders:write'],
    ['unknown workload (valid WIT)', () => asWorkload('/ns/prod/sa/scraper')(`${serviceUrl}/me`), 401, 'WPT'],
    ['no credentials', () => fetch(`${serviceUrl}/me`), 401, 'WPT'],
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

// The app user on success; on failure Passport's 401 and its WWW-Authenticate challenge.
async function outcome(response) {
  if (!response.ok) return `WWW-Authenticate: ${response.headers.get('www-authenticate')}`;
  const { user, workload } = await response.json();
  return `${user.name} [${user.roles.join(', ')}] as ${workload}`;
}
