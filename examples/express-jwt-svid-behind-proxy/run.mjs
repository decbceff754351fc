// `npm start`: the service on plain HTTP (server.mjs), the TLS-terminating proxy in front of it
// (proxy.mjs), then a client sending JWT-SVIDs through the proxy over HTTPS. Exits non-zero if an
// outcome is not the expected one. With WIMSE_BUNDLE_FILE set it only serves, for your own
// workloads to call.
import { once } from 'node:events';
import { jwtSvidInterceptor } from '@wimse-auth/client';
import { Agent, request } from 'undici';
import { describeTrust, loadConfig } from '../shared/config.mjs';
import { createTlsProxy } from './proxy.mjs';
import { createApp } from './server.mjs';
import { loadOrCreateCertificate } from './tls.mjs';

const config = await loadConfig({
  port: 8080,
  // This example's callers present JWT-SVIDs only. To accept WIT + WPT too, list the origin
  // callers address — the proxy's, e.g. https://server.example.org — not the service's own.
  audienceOrigins: '',
  jwtSvidAudience: 'spiffe://example.org/server',
});
const server = createApp(config).listen(config.port, config.host);
await once(server, 'listening');
const serviceUrl = `http://${config.host}:${server.address().port}`;

const certificate = loadOrCreateCertificate();
const proxy = createTlsProxy({ ...certificate, upstream: serviceUrl });
proxy.listen(Number(process.env.PROXY_PORT ?? 8443), config.host);
await once(proxy, 'listening');
const proxyUrl = `https://${config.host}:${proxy.address().port}`;

console.log(`service on ${serviceUrl}, ${describeTrust(config)}`);
console.log(
  `TLS proxy on ${proxyUrl} → ${serviceUrl}${certificate.selfSigned ? ' (self-signed certificate)' : ''}`,
);
console.log(`JWT-SVID audience accepted: ${config.audience.values.join(', ')}\n`);
if (!config.localTrustDomain) {
  console.log('serving until stopped (Ctrl-C)');
} else {
  const failures = await callThroughProxy(config.localTrustDomain);
  server.close();
  proxy.close();
  process.exit(failures === 0 ? 0 : 1);
}

async function callThroughProxy(trustDomain) {
  // The client trusts the proxy's certificate, and nothing else, through `ca`.
  const tls = new Agent({ connect: { ca: certificate.cert } });
  // A workload would get its JWT-SVID from the SPIFFE Workload API or a file (fileTokenProvider);
  // here the local trust domain issues them.
  const withJwtSvid = (audience) => {
    const token = trustDomain.issueJwtSvid({ sub: '/client', aud: audience });
    return tls.compose(jwtSvidInterceptor({ token: async () => token }));
  };

  const calls = [
    ['JWT-SVID for spiffe://example.org/server', withJwtSvid('spiffe://example.org/server'), 200, 'client'],
    [
      'JWT-SVID for spiffe://example.org/other',
      withJwtSvid('spiffe://example.org/other'),
      401,
      'audience_mismatch',
    ],
    ['no JWT-SVID', tls, 401, 'credentials_missing'],
  ];
  let failures = 0;
  for (const [call, dispatcher, expectedStatus, expectedResult] of calls) {
    const response = await request(`${proxyUrl}/`, { dispatcher });
    const body = await response.body.json();
    const result =
      response.statusCode === 200 ? `${body.caller} (${body.credential} via ${body.via})` : body.code;
    const ok = response.statusCode === expectedStatus && result.includes(expectedResult);
    if (!ok) failures++;
    const verdict = ok ? '' : `   ✗ expected ${expectedStatus} ${expectedResult}`;
    console.log(`${call.padEnd(44)}${response.statusCode}  ${result}${verdict}`);
  }
  await tls.close();
  console.log(failures === 0 ? '\nall outcomes as expected' : `\n${failures} unexpected outcome(s)`);
  return failures;
}
