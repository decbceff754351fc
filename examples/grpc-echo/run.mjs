// `npm start` (or `npm run example:grpc` at the repository root): the Echo server (server.mjs)
// over TLS, then two clients (client.mjs): spiffe://example.org/client, which the server admits,
// and spiffe://example.org/other, which gets PERMISSION_DENIED. Exits non-zero if an outcome is
// not the expected one. With WIMSE_BUNDLE_FILE set it only serves, for your own workloads.
import * as grpc from '@grpc/grpc-js';
import { describeTrust, loadConfig } from '../shared/config.mjs';
import { createEchoClient, streamingEcho, unaryEcho } from './client.mjs';
import { createEchoServer } from './server.mjs';
import { loadCertificate } from './tls.mjs';

const config = await loadConfig({ port: 50051, audienceOrigins: '', jwtSvidAudience: '' });
const authorities = (process.env.WIMSE_GRPC_AUTHORITIES ?? 'echo.example.org')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const allowedId = process.env.WIMSE_ALLOWED_ID ?? `spiffe://${config.trustDomain}/client`;
const certificate = loadCertificate();

const server = createEchoServer({ trust: config.trust, authorities, allowedId });
const port = await new Promise((resolve, reject) =>
  server.bindAsync(
    `${config.host}:${config.port}`,
    grpc.ServerCredentials.createSsl(null, [{ cert_chain: certificate.cert, private_key: certificate.key }]),
    (error, bound) => (error ? reject(error) : resolve(bound)),
  ),
);
console.log(`Echo server on ${config.host}:${port} (TLS), ${describeTrust(config)}`);
console.log(`audiences: https://{${authorities.join(',')}}/echo.Echo/<Method>; admits ${allowedId} only\n`);

if (!config.localTrustDomain) {
  console.log('serving until stopped (Ctrl-C)');
} else {
  const failures = await runClients(config.localTrustDomain, `localhost:${port}`);
  server.forceShutdown();
  process.exit(failures === 0 ? 0 : 1);
}

async function runClients(trustDomain, target) {
  // Each calling workload holds a WIT and the private key its cnf.jwk confirms.
  const clientFor = (path) => {
    const issued = trustDomain.issueWit({ sub: path });
    return createEchoClient({
      target,
      ca: certificate.cert,
      wit: issued.token,
      privateKey: issued.workloadKey.privateKey,
      authority: authorities[0],
    });
  };
  const client = clientFor('/client');
  const other = clientFor('/other');
  const { OK, PERMISSION_DENIED } = grpc.status;
  const calls = [
    ['client: UnaryEcho', () => unaryEcho(client, 'hello'), OK, 'from spiffe://example.org/client'],
    ['client: ServerStreamingEcho', () => streamingEcho(client, 'hello'), OK, 'hello #3'],
    ['other: UnaryEcho', () => unaryEcho(other, 'hello'), PERMISSION_DENIED, 'access_denied'],
    ['other: ServerStreamingEcho', () => streamingEcho(other, 'hello'), PERMISSION_DENIED, 'access_denied'],
  ];
  let failures = 0;
  for (const [name, call, expectedCode, expectedText] of calls) {
    const { code, text } = await call();
    const ok = code === expectedCode && text.includes(expectedText);
    if (!ok) failures++;
    const verdict = ok ? '' : `   ✗ expected ${grpc.status[expectedCode]} ${expectedText}`;
    console.log(`${name.padEnd(30)}${grpc.status[code].padEnd(19)}${text}${verdict}`);
  }
  client.close();
  other.close();
  console.log(failures === 0 ? '\nall outcomes as expected' : `\n${failures} unexpected outcome(s)`);
  return failures;
}
