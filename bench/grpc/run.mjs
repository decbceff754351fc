// gRPC benchmark: unary calls per second on the same grpc-js server with and without
// wimseServerInterceptor, in one run. Each server runs alone in a child process (server.mjs)
// while this process keeps a fixed number of calls in flight over one loopback channel
// (plaintext: TLS would cost both rows the same). Rows:
//   - no interceptor (the ceiling), calls carrying no credential;
//   - WIT+WPT: one WIT, a fresh pre-minted proof on every call (signature checks of the WIT
//     are cached, the proof is verified and remembered per call, as in production);
//   - JWT-SVID, repeated: one bearer token throughout (verified once, then cached).
// Ratios are against the ceiling of the same run. Any failed call fails the run (exit 1).
//
// Run with `npm run bench:grpc` (builds first). Environment: BENCH_GRPC_DURATION (measured
// seconds per row, default 8), BENCH_GRPC_WARMUP (default 2), BENCH_GRPC_CONCURRENCY (calls in
// flight, default 32), BENCH_GRPC_SMOKE=1 (1 s rows, for CI smoke runs).
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createWptSigner } from '@wimse-auth/client';
import { createTestTrustDomain } from '@wimse-auth/testing';
import { AUTHORITY, BENCH_SERVICE, METHOD, TRUST_DOMAIN } from './service.mjs';

const env = process.env;
const SMOKE = env.BENCH_GRPC_SMOKE === '1';
const number = (name, fallback) => {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const DURATION = number('BENCH_GRPC_DURATION', SMOKE ? 1 : 8);
const WARMUP = number('BENCH_GRPC_WARMUP', SMOKE ? 0.5 : 2);
const CONCURRENCY = Math.floor(number('BENCH_GRPC_CONCURRENCY', 32));
if (DURATION < 1) throw new Error('BENCH_GRPC_DURATION must be at least 1 second');
if (CONCURRENCY < 1) throw new Error('BENCH_GRPC_CONCURRENCY must be at least 1');
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const CALL_DEADLINE_MS = 10_000;
const PAYLOAD = Buffer.from('ping');

const trustDomain = createTestTrustDomain(TRUST_DOMAIN);
const CLIENT_ID = `spiffe://${TRUST_DOMAIN}/client`;
const audience = `https://${AUTHORITY}${METHOD}`;

/** Starts a server variant; resolves { port, stop }. */
function startServer(variant) {
  const child = fork(SERVER, [variant], {
    env: { ...env, BENCH_GRPC_BUNDLE: JSON.stringify(trustDomain.bundle) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server ${variant} did not report a port within 15 s`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${variant} exited early (${code})`));
    });
    child.once('message', ({ port }) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const stop = () =>
        new Promise((done) => {
          if (child.exitCode !== null) return done();
          const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.disconnect();
        });
      resolve({ port, stop });
    });
  });
}

function call(client, metadata) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      METHOD,
      BENCH_SERVICE.Echo.requestSerialize,
      BENCH_SERVICE.Echo.responseDeserialize,
      PAYLOAD,
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (error) => resolve(error ?? null),
    );
  });
}

/**
 * Keeps CONCURRENCY calls in flight until `until`; `metadataFor()` gives each call its metadata.
 * Resolves the number of completed calls; rejects on the first failed call.
 */
async function drive(client, metadataFor, until) {
  let completed = 0;
  let failure;
  const worker = async () => {
    while (failure === undefined && performance.now() < until) {
      const error = await call(client, metadataFor());
      if (error) failure ??= error;
      else completed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failure) throw new Error(`a call failed: ${grpc.status[failure.code]} ${failure.details}`);
  return completed;
}

/** Warmup, then DURATION seconds measured: calls per second. */
async function measure(client, metadataFor) {
  await drive(client, metadataFor, performance.now() + WARMUP * 1000);
  const start = performance.now();
  const completed = await drive(client, metadataFor, start + DURATION * 1000);
  return completed / ((performance.now() - start) / 1000);
}

const metadataOf = (pairs) => {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(pairs)) metadata.set(key, value);
  return metadata;
};

/** Pre-mints `count` proofs for the one WIT (minting is not what is measured). */
async function mintProofs(count) {
  const issued = trustDomain.issueWit({ sub: CLIENT_ID });
  const signer = createWptSigner({
    wit: issued.token,
    privateKey: issued.workloadKey.privateKey,
    ttlSeconds: 300,
  });
  const proofs = new Array(count);
  for (let i = 0; i < count; i++) proofs[i] = (await signer.sign({ url: audience })).wpt;
  return { wit: issued.token, proofs };
}

/** Before measuring: the server refuses a call without credentials and a replayed proof. */
async function checkWimse(client, wit, proof) {
  const expectUnauthenticated = (error, what) => {
    if (error?.code !== grpc.status.UNAUTHENTICATED) {
      throw new Error(`${what}: expected UNAUTHENTICATED, got ${error ? grpc.status[error.code] : 'OK'}`);
    }
  };
  expectUnauthenticated(await call(client, new grpc.Metadata()), 'no credential');
  const pairs = { 'workload-identity-token': wit, authorization: `WPT ${proof}` };
  const first = await call(client, metadataOf(pairs));
  if (first) throw new Error(`a valid proof was refused: ${grpc.status[first.code]}`);
  expectUnauthenticated(await call(client, metadataOf(pairs)), 'replayed proof');
}

async function row(variant, prepare) {
  const server = await startServer(variant);
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  try {
    const metadataFor = await prepare(client);
    return await measure(client, metadataFor);
  } finally {
    client.close();
    await server.stop();
  }
}

console.log(
  `gRPC unary calls/s, ${CONCURRENCY} in flight, ${WARMUP} s warmup + ${DURATION} s per row, ` +
    `Node ${process.version}, ${os.cpus().length} CPUs${SMOKE ? ' (smoke run)' : ''}\n`,
);
const results = [];
try {
  const ceiling = await row('plain', async () => () => new grpc.Metadata());
  results.push(['no interceptor (ceiling)', ceiling]);

  // Enough proofs for the whole row at the ceiling's rate (the interceptor can only be slower).
  const needed = Math.ceil(ceiling * (WARMUP + DURATION) * 1.2) + 10;
  const { wit, proofs } = await mintProofs(needed);
  let next = 0;
  const wpt = await row('wimse', async (client) => {
    await checkWimse(client, wit, proofs[next++]);
    return () => {
      const proof = proofs[next++];
      if (proof === undefined) throw new Error('ran out of pre-minted proofs');
      return metadataOf({ 'workload-identity-token': wit, authorization: `WPT ${proof}` });
    };
  });
  results.push(['wimseServerInterceptor, WIT+WPT (fresh proof per call)', wpt]);

  const svid = trustDomain.issueJwtSvid({ sub: CLIENT_ID, aud: audience, ttl: 600 });
  const bearer = await row('wimse', async () => () => metadataOf({ authorization: `Bearer ${svid}` }));
  results.push(['wimseServerInterceptor, JWT-SVID (repeated token)', bearer]);

  const width = Math.max(...results.map(([label]) => label.length)) + 2;
  console.log(`${'row'.padEnd(width)}${'calls/s'.padStart(10)}${'vs ceiling'.padStart(12)}`);
  for (const [label, rate] of results) {
    console.log(
      `${label.padEnd(width)}${rate.toFixed(0).padStart(10)}${(rate / ceiling).toFixed(2).padStart(12)}`,
    );
  }
} catch (error) {
  console.error(`bench:grpc failed: ${error.message}`);
  process.exit(1);
}
