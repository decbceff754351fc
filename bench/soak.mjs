// Memory soak: one million requests through one authenticator, and the process's resident
// memory sampled as it goes. Half the requests are WIT+WPT (a fresh proof each, the WIT
// rotating every WIT_EVERY requests, so the verified-WIT cache keeps evicting), half are
// JWT-SVIDs each sent twice (a token enters the cache on its second verification, so every
// new one is admitted and the verified-JWT-SVID cache keeps evicting too). Every proof
// is remembered by the in-memory replay store until it expires. With bounded caches and a
// bounded, time-bucketed replay store, RSS must level off once the caches are full and the
// replay window has filled: growth after the warm-up is checked against a bound computed
// from the configured limits, and the run fails (exit 1) above it.
//
// `npm run bench:soak` (builds first). SOAK_REQUESTS (default 1 000 000), SOAK_SAMPLE_EVERY
// (default 50 000). In-process (no HTTP), so what grows is the library's state, not sockets.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAuthenticator, JwtBundle, MemoryReplayStore, StaticBundleSource } from '@wimse-auth/core';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const SAMPLE_EVERY = Number(process.env.SOAK_SAMPLE_EVERY ?? 50_000);
const WARMUP = Math.min(200_000, Math.floor(REQUESTS / 5));
const WIT_EVERY = 100;
const PROOF_LIFETIME = 10; // seconds
const CLOCK_TOLERANCE = 5; // seconds
// The limits under test.
const CACHE_SIZE = { wit: 1_000, jwtSvid: 5_000 };
const REPLAY_ENTRIES = 150_000;
// Per-entry costs used for the bound, generous on purpose: a replay entry measures ~130 B
// (bench/replay-store-memory.mjs); a cached WIT or JWT-SVID (claims, header, key objects,
// the LRU's bookkeeping) well under 8 KB.
const BOUND_BYTES = REPLAY_ENTRIES * 256 + (CACHE_SIZE.wit + CACHE_SIZE.jwtSvid) * 8192 + 32 * 2 ** 20;

const ORIGIN = 'https://orders.example.org';
const CALLER = 'spiffe://example.org/ns/prod/sa/billing';
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
function jws(header, claims, privateKey) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature =
    header.alg === 'EdDSA'
      ? sign(null, Buffer.from(input), privateKey)
      : sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const issuerJwk = issuer.publicKey.export({ format: 'jwk' });
const trust = new StaticBundleSource([
  JwtBundle.fromSpiffeBundle('example.org', {
    keys: [
      { ...issuerJwk, kid: 'wit-1', use: 'wit-svid' },
      { ...issuerJwk, kid: 'jwt-1', use: 'jwt-svid' },
    ],
  }),
]);
const replayStore = new MemoryReplayStore({ maxEntries: REPLAY_ENTRIES });
const authenticator = createAuthenticator({
  trust,
  audience: { origins: [ORIGIN] },
  cacheSize: CACHE_SIZE,
  clockTolerance: CLOCK_TOLERANCE,
  replayStore,
});

let caller;
let svid;
function newCaller() {
  const workload = generateKeyPairSync('ed25519');
  const jwk = { ...workload.publicKey.export({ format: 'jwk' }), alg: 'EdDSA' };
  const wit = jws(
    { alg: 'ES256', kid: 'wit-1', typ: 'wit+jwt' },
    { sub: CALLER, iat: now(), exp: now() + 3600, jti: randomBytes(12).toString('base64url'), cnf: { jwk } },
    issuer.privateKey,
  );
  caller = { workload, wit, wth: createHash('sha256').update(wit).digest('base64url') };
}

function request(i) {
  if (i % 2 === 0) {
    if (caller === undefined || (i / 2) % WIT_EVERY === 0) newCaller();
    const proof = jws(
      { alg: 'EdDSA', typ: 'wpt+jwt' },
      {
        aud: `${ORIGIN}/orders`,
        exp: now() + PROOF_LIFETIME,
        jti: randomBytes(16).toString('base64url'),
        wth: caller.wth,
      },
      caller.workload.privateKey,
    );
    return {
      method: 'GET',
      url: '/orders',
      headers: { 'workload-identity-token': caller.wit, authorization: `WPT ${proof}` },
    };
  }
  if (svid === undefined || ((i - 1) / 2) % 2 === 0) {
    svid = jws(
      { alg: 'ES256', kid: 'jwt-1', typ: 'JWT' },
      { sub: CALLER, aud: ORIGIN, iat: now(), exp: now() + 300, jti: randomBytes(12).toString('base64url') },
      issuer.privateKey,
    );
  }
  return { method: 'GET', url: '/orders', headers: { authorization: `Bearer ${svid}` } };
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const samples = [];
const sample = (done) => {
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ done, rss, heapUsed });
  console.log(
    `${String(done).padStart(9)} requests  RSS ${mb(rss).padStart(6)} MB  heap ${mb(heapUsed).padStart(6)} MB`,
  );
};

console.log(
  `Soak — node ${process.version}: ${REQUESTS} requests (WIT+WPT Ed25519 proofs / ES256 JWT-SVIDs sent twice each), ` +
    `caches ${JSON.stringify(CACHE_SIZE)}, replay store ${REPLAY_ENTRIES} entries, proofs live ` +
    `${PROOF_LIFETIME} s + ${CLOCK_TOLERANCE} s tolerance.`,
);
const started = performance.now();
const failures = new Map();
sample(0);
for (let i = 1; i <= REQUESTS; i++) {
  try {
    await authenticator.authenticate(request(i));
  } catch (error) {
    failures.set(error.code ?? 'unexpected', (failures.get(error.code ?? 'unexpected') ?? 0) + 1);
  }
  if (i % SAMPLE_EVERY === 0) sample(i);
}
const seconds = (performance.now() - started) / 1000;
const warm = samples.find((s) => s.done >= WARMUP) ?? samples[0];
const peak = samples.reduce((max, s) => (s.done >= WARMUP && s.rss > max ? s.rss : max), 0);
const growth = peak - warm.rss;
console.log(
  `\n${REQUESTS} requests in ${seconds.toFixed(0)} s (${(REQUESTS / seconds).toFixed(0)}/s). ` +
    `RSS after ${warm.done} (warm-up): ${mb(warm.rss)} MB; highest after it: ${mb(peak)} MB; ` +
    `growth ${mb(growth)} MB; bound from the limits ${mb(BOUND_BYTES)} MB. ` +
    `Replay store holds ${replayStore.size ?? 'n/a'} proofs.`,
);
let failed = false;
if (failures.size > 0) {
  console.error(`Rejected requests (none expected): ${JSON.stringify(Object.fromEntries(failures))}`);
  failed = true;
}
if (growth > BOUND_BYTES) {
  console.error(`RSS grew ${mb(growth)} MB after the warm-up, above the ${mb(BOUND_BYTES)} MB bound.`);
  failed = true;
}
console.log(failed ? 'SOAK FAILED' : 'Soak passed: memory bounded by the configured limits.');
if (REQUESTS >= 1_000_000) {
  const file = new URL('./results/soak.md', import.meta.url);
  mkdirSync(new URL('.', file), { recursive: true });
  const lines = [
    '# Memory soak — latest full run',
    '',
    `Written by \`npm run bench:soak\` on ${new Date().toISOString().slice(0, 10)}, node ${process.version}: ` +
      `${REQUESTS} requests in ${seconds.toFixed(0)} s through one authenticator, half WIT+WPT (Ed25519 ` +
      `proofs, a new WIT every ${WIT_EVERY} proofs), half JWT-SVIDs each sent twice. Limits: caches ` +
      `\`${JSON.stringify(CACHE_SIZE)}\`, replay store ${REPLAY_ENTRIES} entries; proofs live ${PROOF_LIFETIME} s ` +
      `+ ${CLOCK_TOLERANCE} s tolerance.`,
    '',
    '| requests | RSS MB | heap used MB |',
    '| ---: | ---: | ---: |',
    ...samples.map((s) => `| ${s.done} | ${mb(s.rss)} | ${mb(s.heapUsed)} |`),
    '',
    `RSS after the ${warm.done}-request warm-up: ${mb(warm.rss)} MB; highest after it: ${mb(peak)} MB ` +
      `(growth ${mb(growth)} MB, bound from the limits ${mb(BOUND_BYTES)} MB). Rejected requests: ` +
      `${failures.size === 0 ? 'none' : JSON.stringify(Object.fromEntries(failures))}. ` +
      `${failed ? 'FAILED' : 'Passed'}.`,
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(`Saved ${fileURLToPath(file)}.`);
}
process.exitCode = failed ? 1 : 0;
