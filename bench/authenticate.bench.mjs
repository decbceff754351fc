// Throughput of @wimse-auth/core's authenticate() next to its peers, all in one run:
// raw node:crypto.verify and jose.jwtVerify of one JWT with the same algorithm.
// Run with `npm run bench` (builds first). Figures are ratios, never absolute targets.
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createAuthenticator, JwtBundle, StaticBundleSource } from '@wimse-auth/core';
import { importJWK, jwtVerify } from 'jose';
import { Bench } from 'tinybench';

const ALG = process.env.BENCH_ALG ?? 'ES256';
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 3000);
const CURVES = { ES256: 'P-256', ES384: 'P-384', EdDSA: null };
if (!(ALG in CURVES)) throw new Error(`BENCH_ALG must be one of ${Object.keys(CURVES)}`);

function keyPair() {
  const pair =
    ALG === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: CURVES[ALG] });
  return { ...pair, jwk: pair.publicKey.export({ format: 'jwk' }) };
}
const b64url = (value) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hashName = ALG === 'EdDSA' ? null : `sha${ALG.slice(2)}`;
// JWT-SVIDs may not use EdDSA (JWT-SVID.md §2.1), so those tasks run only for ES*.
const jwtSvidAllowed = ALG !== 'EdDSA';
function signJwt(header, claims, privateKey) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign(hashName, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const issuer = keyPair();
const workload = keyPair();
const trust = new StaticBundleSource([
  JwtBundle.fromSpiffeBundle('example.org', {
    keys: [
      { ...issuer.jwk, kid: 'wit-1', use: 'wit-svid' },
      { ...issuer.jwk, kid: 'jwt-1', use: 'jwt-svid' },
    ],
  }),
]);
const origin = 'https://api.example.org';
const caller = 'spiffe://example.org/ns/prod/sa/billing';
const now = () => Math.floor(Date.now() / 1000);

const wit = signJwt(
  { alg: ALG, kid: 'wit-1', typ: 'wit+jwt' },
  { sub: caller, exp: now() + 3600, iat: now(), cnf: { jwk: { ...workload.jwk, alg: ALG } } },
  issuer.privateKey,
);
const wth = createHash('sha256').update(wit).digest('base64url');
const jwtSvid = signJwt(
  { alg: ALG, kid: 'jwt-1', typ: 'JWT' },
  { sub: caller, aud: [origin], exp: now() + 3600, iat: now() },
  issuer.privateKey,
);

// Proofs are minted before timing: each iteration presents a fresh WPT with the same WIT.
const PROOFS = Number(process.env.BENCH_PROOFS ?? 60_000);
const proofs = Array.from({ length: PROOFS }, () =>
  signJwt(
    { alg: ALG, typ: 'wpt+jwt' },
    { aud: `${origin}/orders`, exp: now() + 120, jti: randomBytes(16).toString('base64url'), wth },
    workload.privateKey,
  ),
);

const authenticator = createAuthenticator({ trust, audience: { origins: [origin] } });
const uncached = createAuthenticator({
  trust,
  audience: { origins: [origin] },
  cacheSize: { wit: 0, jwtSvid: 0 },
});
const svidRequest = { method: 'GET', url: '/orders', headers: { authorization: `Bearer ${jwtSvid}` } };
let next = 0;
const proofRequest = () => {
  if (next >= proofs.length) throw new Error('benchmark ran out of pre-minted proofs; raise BENCH_PROOFS');
  return {
    method: 'GET',
    url: '/orders',
    headers: { 'workload-identity-token': wit, authorization: `WPT ${proofs[next++]}` },
  };
};

// Peers: the same JWT verified by node:crypto alone and by jose.
const [h, p, s] = jwtSvid.split('.');
const signingInput = Buffer.from(`${h}.${p}`);
const signature = Buffer.from(s, 'base64url');
const joseKey = await importJWK({ ...issuer.jwk }, ALG);

await authenticator.authenticate(proofRequest()); // WIT verified and cached once, outside timing

// Web Crypto verification runs on libuv's thread pool, so single runs are noisy. Every task
// runs in several short rounds, interleaved with the others, and reports its median.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const tasks = {
  'node:crypto.verify (one signature)': () => {
    if (!verify(hashName, signingInput, { key: issuer.publicKey, dsaEncoding: 'ieee-p1363' }, signature)) {
      throw new Error('peer verification failed');
    }
  },
  'jose.jwtVerify (one JWT)': async () => {
    await jwtVerify(jwtSvid, joseKey, { algorithms: [ALG], ...(jwtSvidAllowed ? { audience: origin } : {}) });
  },
  'authenticate WIT+WPT (fresh WPT, same WIT)': async () => {
    await authenticator.authenticate(proofRequest());
  },
};
if (jwtSvidAllowed) {
  tasks['authenticate JWT-SVID (cache off)'] = async () => {
    await uncached.authenticate(svidRequest);
  };
  tasks['authenticate JWT-SVID (repeated token, cached)'] = async () => {
    await authenticator.authenticate(svidRequest);
  };
}

const samples = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: TIME_MS / ROUNDS, warmupTime: round === 0 ? 300 : 50 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    if (task.result?.error) throw task.result.error;
    samples[task.name].push(task.result?.throughput?.mean ?? task.result?.hz);
  }
}
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const hz = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
const jose = hz['jose.jwtVerify (one JWT)'];
const raw = hz['node:crypto.verify (one signature)'];
console.log(
  `\n@wimse-auth/core benchmark — ${ALG}, node ${process.version}, median of ${ROUNDS} rounds, ${TIME_MS} ms per task`,
);
console.log('task'.padEnd(50), 'ops/s'.padStart(10), '× jose'.padStart(8), '× crypto'.padStart(9));
for (const [name, ops] of Object.entries(hz)) {
  console.log(
    name.padEnd(50),
    ops.toFixed(0).padStart(10),
    (ops / jose).toFixed(2).padStart(8),
    (ops / raw).toFixed(2).padStart(9),
  );
}
const ratio = hz['authenticate WIT+WPT (fresh WPT, same WIT)'] / jose;
console.log(`\nWIT+WPT authenticate / jose.jwtVerify = ${ratio.toFixed(2)} (target ≥ 0.80)`);
