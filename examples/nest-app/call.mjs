// A calling workload for the example: mints credentials with the dev trust domain and calls
// the service. Usage:
//   node call.mjs <path> [--as <spiffe id>] [--jwt-svid | --none] [--replay]
// Default: a WIT + WPT (Authorization: WPT) for spiffe://example.org/ns/prod/sa/billing.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createRequire } from 'node:module';

const { issuerKeys } = createRequire(import.meta.url)('./dev-trust-domain.cjs');

const SERVICE_URL = process.env.SERVICE_URL ?? 'http://localhost:3000';
const ORIGIN = process.env.SERVICE_ORIGIN ?? new URL(SERVICE_URL).origin;

const b64url = (value) => Buffer.from(value).toString('base64url');

function jws(header, claims, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Request headers carrying the workload's credential for `path`. */
export function credentials(path, { as = 'spiffe://example.org/ns/prod/sa/billing', form = 'wpt' } = {}) {
  if (form === 'none') return {};
  const keys = issuerKeys();
  const now = Math.floor(Date.now() / 1000);
  if (form === 'jwt-svid') {
    const key = createPrivateKey({ key: keys.jwtSvid, format: 'jwk' });
    const svid = jws(
      { alg: 'ES256', kid: 'jwt-1', typ: 'JWT' },
      { sub: as, aud: ORIGIN, exp: now + 300, iat: now },
      key,
    );
    return { authorization: `Bearer ${svid}` };
  }
  // The workload's own key pair; the WIT binds its public key (cnf), the WPT proves possession.
  const workload = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const witKey = createPrivateKey({ key: keys.wit, format: 'jwk' });
  const cnf = { jwk: { ...workload.publicKey.export({ format: 'jwk' }), alg: 'ES256' } };
  const wit = jws(
    { alg: 'ES256', kid: 'wit-1', typ: 'wit+jwt' },
    { sub: as, exp: now + 3600, iat: now, cnf },
    witKey,
  );
  const wth = createHash('sha256').update(wit).digest('base64url');
  const wpt = jws(
    { alg: 'ES256', typ: 'wpt+jwt' },
    { aud: `${ORIGIN}${path}`, exp: now + 60, jti: randomBytes(16).toString('base64url'), wth },
    workload.privateKey,
  );
  return { 'workload-identity-token': wit, authorization: `WPT ${wpt}` };
}

/** Calls the service; resolves with status, WWW-Authenticate and body. */
export async function call(path, options = {}) {
  const headers = credentials(path, options);
  const send = async () => {
    const response = await fetch(new URL(path, SERVICE_URL), { headers });
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: await response.text(),
    };
  };
  const first = await send();
  return options.replay ? send() : first;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const path = args.find((arg) => arg.startsWith('/')) ?? '/orders';
  const asIndex = args.indexOf('--as');
  const options = {
    ...(asIndex >= 0 ? { as: args[asIndex + 1] } : {}),
    form: args.includes('--jwt-svid') ? 'jwt-svid' : args.includes('--none') ? 'none' : 'wpt',
    replay: args.includes('--replay'),
  };
  const { status, challenge, body } = await call(path, options);
  console.log(`GET ${path} -> ${status}`);
  if (challenge) console.log(`WWW-Authenticate: ${challenge}`);
  console.log(body);
}
