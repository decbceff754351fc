// HTTP benchmark: the same route (GET /orders → { ok: true }) on Express 5, Koa 3 and Nest 11,
// behind our adapters (JWT-SVID with fresh and repeated tokens, WIT+WPT with ES256 and
// Ed25519 proofs, in-memory and Redis replay stores), behind the bearer-JWT peers of each
// platform (express-oauth2-jwt-bearer, passport-jwt, express-jwt; koa-jwt; Nest + passport-jwt),
// and behind nothing (each platform's ceiling), loaded over loopback with autocannon in one
// run. Every server variant runs alone in its own child process (server.mjs) while this
// process drives the load, so the two never share a core with a third party. Figures are
// ratios against the same platform's ceiling and fastest peer, measured in the same run; a
// full clean run is saved to bench/results/latest.md.
//
// Run with `npm run bench:http` (builds first). See bench/README.md for the environment knobs.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  bearerToken,
  ed25519KeyPair,
  es256KeyPair,
  mintBearerTokens,
  mintProofs,
  ROUTE,
  workloadIdentityToken,
} from './tokens.mjs';

const env = process.env;
const SMOKE = env.BENCH_HTTP_SMOKE === '1';
const number = (name, fallback) => {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const DURATION = number('BENCH_HTTP_DURATION', SMOKE ? 1 : 3); // seconds per variant and round, measured
// The measured seconds of a round are taken in slices, the variants taking turns (see below).
const SLICES = Math.max(1, Math.round(DURATION / number('BENCH_HTTP_SLICE', 1)));
const SLICE_SECONDS = DURATION / SLICES;
const WARMUP = number('BENCH_HTTP_WARMUP', SMOKE ? 1 : 1); // seconds before each measured slice, discarded
const CONNECTIONS = number('BENCH_HTTP_CONNECTIONS', 10);
const PROOFS = number('BENCH_HTTP_PROOFS', 0); // 0: sized from the ceiling's rate
const ROUNDS = Math.max(1, Math.floor(number('BENCH_HTTP_ROUNDS', SMOKE ? 1 : 5)));
if (DURATION < 1) throw new Error('BENCH_HTTP_DURATION must be at least 1 second');
// autocannon counts requests per second: a shorter slice would still last a second.
if (SLICE_SECONDS < 1) throw new Error('BENCH_HTTP_SLICE must leave slices of at least 1 second');
if (CONNECTIONS < 1) throw new Error('BENCH_HTTP_CONNECTIONS must be at least 1');

// kind: 'ceiling' (no authentication), 'peer' (another library's bearer path), 'ours',
// 'reference' (no authentication either, but one more middleware layer or guard: what that alone
// costs the framework, for reading the repeated-token rows).
// platform: 'express', 'koa' or 'nest'; ratios compare each row with its own platform's
// ceiling and fastest peer. load: 'bearer' (one token, reused), 'bearer-fresh' (a new token
// on every request), 'wpt' / 'wpt-ed25519' (one WIT, a fresh proof on every request).
// target: the ratio the row must reach, against its platform's fastest peer or its ceiling.
const FRESH_SVID = { path: 'JWT-SVID, fresh token', target: { against: 'peer', ratio: 1.0 } };
const REPEATED_SVID = { path: 'JWT-SVID, repeated token', target: { against: 'ceiling', ratio: 0.85 } };
const WPT_MEMORY = { path: 'WIT+WPT, in-memory replay', target: { against: 'peer', ratio: 0.8 } };
const WPT_REDIS = { path: 'WIT+WPT, Redis replay', target: { against: 'peer', ratio: 0.6 } };
const VARIANTS = [
  // Express 5
  { id: 'ceiling', label: 'express, no auth (ceiling)', server: 'ceiling', load: 'bearer', kind: 'ceiling' },
  {
    id: 'passthrough',
    label: 'express, one no-op middleware',
    server: 'passthrough',
    load: 'bearer',
    kind: 'reference',
  },
  {
    id: 'oauth2-jwt-bearer',
    label: 'express-oauth2-jwt-bearer',
    server: 'oauth2-jwt-bearer',
    load: 'bearer-fresh',
    kind: 'peer',
  },
  { id: 'passport-jwt', label: 'passport-jwt', server: 'passport-jwt', load: 'bearer-fresh', kind: 'peer' },
  { id: 'express-jwt', label: 'express-jwt', server: 'express-jwt', load: 'bearer-fresh', kind: 'peer' },
  {
    id: 'wimse-svid-fresh',
    label: 'wimse() JWT-SVID fresh',
    server: 'wimse',
    load: 'bearer-fresh',
    kind: 'ours',
    ...FRESH_SVID,
  },
  {
    id: 'wimse-svid',
    label: 'wimse() JWT-SVID repeated',
    server: 'wimse',
    load: 'bearer',
    kind: 'ours',
    ...REPEATED_SVID,
  },
  {
    id: 'wimse-wpt',
    label: 'wimse() WIT+WPT ES256',
    server: 'wimse',
    load: 'wpt',
    kind: 'ours',
    ...WPT_MEMORY,
  },
  {
    id: 'wimse-wpt-ed25519',
    label: 'wimse() WIT+WPT Ed25519',
    server: 'wimse',
    load: 'wpt-ed25519',
    kind: 'ours',
    ...WPT_MEMORY,
  },
  {
    id: 'wimse-wpt-redis',
    label: 'wimse() WIT+WPT ES256, Redis',
    server: 'wimse-redis',
    load: 'wpt',
    kind: 'ours',
    needsRedis: true,
    ...WPT_REDIS,
  },
  {
    id: 'passport-wimse-svid-fresh',
    label: "passport 'wimse' JWT-SVID fresh",
    server: 'passport-wimse',
    load: 'bearer-fresh',
    kind: 'ours',
    // The passport rows have no target (see bench/README.md): Passport's own per-request work
    // is in them, so they are read against passport-jwt, the Passport peer.
  },
  {
    id: 'passport-wimse-wpt',
    label: "passport 'wimse' WIT+WPT ES256",
    server: 'passport-wimse',
    load: 'wpt',
    kind: 'ours',
  },
  // Koa 3
  {
    id: 'koa-ceiling',
    label: 'koa, no auth (ceiling)',
    server: 'koa-ceiling',
    load: 'bearer',
    kind: 'ceiling',
    platform: 'koa',
  },
  {
    id: 'koa-passthrough',
    label: 'koa, one no-op middleware',
    server: 'koa-passthrough',
    load: 'bearer',
    kind: 'reference',
    platform: 'koa',
  },
  { id: 'koa-jwt', label: 'koa-jwt', server: 'koa-jwt', load: 'bearer-fresh', kind: 'peer', platform: 'koa' },
  {
    id: 'koa-wimse-svid-fresh',
    label: 'koa wimse() JWT-SVID fresh',
    server: 'koa-wimse',
    load: 'bearer-fresh',
    kind: 'ours',
    platform: 'koa',
    ...FRESH_SVID,
  },
  {
    id: 'koa-wimse-svid',
    label: 'koa wimse() JWT-SVID repeated',
    server: 'koa-wimse',
    load: 'bearer',
    kind: 'ours',
    platform: 'koa',
    ...REPEATED_SVID,
  },
  {
    id: 'koa-wimse-wpt',
    label: 'koa wimse() WIT+WPT ES256',
    server: 'koa-wimse',
    load: 'wpt',
    kind: 'ours',
    platform: 'koa',
    ...WPT_MEMORY,
  },
  {
    id: 'koa-wimse-wpt-ed25519',
    label: 'koa wimse() WIT+WPT Ed25519',
    server: 'koa-wimse',
    load: 'wpt-ed25519',
    kind: 'ours',
    platform: 'koa',
    ...WPT_MEMORY,
  },
  // Nest 11 on @nestjs/platform-express
  {
    id: 'nest-ceiling',
    label: 'nest, no guard (ceiling)',
    server: 'nest-ceiling',
    load: 'bearer',
    kind: 'ceiling',
    platform: 'nest',
  },
  {
    id: 'nest-guard-true',
    label: 'nest, a guard returning true',
    server: 'nest-guard-true',
    load: 'bearer',
    kind: 'reference',
    platform: 'nest',
  },
  {
    id: 'nest-guard-user',
    label: 'nest, a guard setting req.user',
    server: 'nest-guard-user',
    load: 'bearer',
    kind: 'reference',
    platform: 'nest',
  },
  {
    id: 'nest-passport-jwt',
    label: "Nest AuthGuard('jwt') passport-jwt",
    server: 'nest-passport-jwt',
    load: 'bearer-fresh',
    kind: 'peer',
    platform: 'nest',
  },
  {
    id: 'nest-wimse-svid-fresh',
    label: 'Nest WimseGuard JWT-SVID fresh',
    server: 'nest-wimse',
    load: 'bearer-fresh',
    kind: 'ours',
    platform: 'nest',
    ...FRESH_SVID,
  },
  {
    id: 'nest-wimse-svid',
    label: 'Nest WimseGuard JWT-SVID repeated',
    server: 'nest-wimse',
    load: 'bearer',
    kind: 'ours',
    platform: 'nest',
    ...REPEATED_SVID,
  },
  {
    id: 'nest-wimse-wpt',
    label: 'Nest WimseGuard WIT+WPT ES256',
    server: 'nest-wimse',
    load: 'wpt',
    kind: 'ours',
    platform: 'nest',
    ...WPT_MEMORY,
  },
].map((variant) => ({ platform: 'express', ...variant }));
const only = env.BENCH_HTTP_VARIANTS?.split(',')
  .map((id) => id.trim())
  .filter(Boolean);
const unknown = only?.filter((id) => !VARIANTS.some((variant) => variant.id === id)) ?? [];
if (unknown.length > 0) {
  throw new Error(`unknown BENCH_HTTP_VARIANTS ${unknown}; known: ${VARIANTS.map((v) => v.id)}`);
}
const selected = only ? VARIANTS.filter((variant) => only.includes(variant.id)) : VARIANTS;

// Keys and credentials, minted here so the servers only ever see public keys.
const issuer = es256KeyPair();
const callers = { wpt: es256KeyPair(), 'wpt-ed25519': ed25519KeyPair() };
const wits = Object.fromEntries(
  Object.entries(callers).map(([load, workload]) => [load, workloadIdentityToken(issuer, workload)]),
);
const bearer = bearerToken(issuer);
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const redis = selected.some((variant) => variant.needsRedis) ? await startRedis() : undefined;

function startServer(name) {
  const child = fork(SERVER, [name], {
    execPath: process.execPath,
    env: { ...env, BENCH_HTTP_ISSUER_JWK: JSON.stringify(issuer.jwk), BENCH_REDIS_URL: redis?.url ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`server ${name} did not report a port within 15 s`)),
      15_000,
    );
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`server ${name} exited early (${code ?? signal})`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      resolve({ child, port: message.port });
    });
  });
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** CPU time (ms) the child has used so far, and its resident set size (bytes). */
function childStats(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cpu) {
        child.off('message', onMessage);
        resolve({ cpu: (message.cpu.user + message.cpu.system) / 1000, rss: message.rss });
      }
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}
const childCpu = async (child) => (await childStats(child)).cpu;

/**
 * The Redis the "Redis replay" rows use: WIMSE_REDIS_URL / BENCH_REDIS_URL when set (as
 * .ci/run exports), otherwise a redis-server started here on a free loopback port, without
 * persistence, stopped at exit. Undefined (and those rows skipped, said so) without either.
 */
async function startRedis() {
  const given = env.BENCH_REDIS_URL || env.WIMSE_REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  const port = await new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const server = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const failed = new Promise((resolve) => server.once('error', resolve));
  for (let attempt = 0; attempt < 50; attempt++) {
    const ready = await Promise.race([
      failed.then(() => 'missing'),
      new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.end();
          resolve('ready');
        });
        socket.once('error', () => resolve('not yet'));
      }),
    ]);
    if (ready === 'missing') return undefined;
    if (ready === 'ready') {
      process.once('exit', () => server.kill());
      return {
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          server.kill();
          await once(server, 'exit');
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill();
  return undefined;
}

/** CPU time (ms) all cores of the machine have spent busy so far. */
const machineBusy = () => os.cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Measures what `fn` runs while watching the machine: the CPU used by processes other than
 * this runner and the server under load, in cores (0 on a quiet machine).
 */
async function watchingOthers(child, fn) {
  const before = {
    wall: performance.now(),
    busy: machineBusy(),
    own: ownCpu(),
    child: await childCpu(child),
  };
  const value = await fn();
  const wall = performance.now() - before.wall;
  const runner = (ownCpu() - before.own) / wall;
  const server = ((await childCpu(child)) - before.child) / wall;
  const others = Math.max(0, (machineBusy() - before.busy) / wall - runner - server);
  return { value, others, runner, server };
}

/** One request outside the measurement (no keep-alive), for the preflight checks. */
function get(port, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: ROUTE, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('preflight request timed out')));
    req.on('error', reject);
  });
}

/** Hands out each pre-minted token once; running out is reported as a failure. */
function tokenFeeder(tokens) {
  let next = 0;
  const feeder = {
    exhausted: false,
    get used() {
      return next;
    },
    take() {
      if (next < tokens.length) return tokens[next++];
      // Reusing a proof gets a 401 (replay), which fails the run below; the flag says why.
      feeder.exhausted = true;
      return tokens[tokens.length - 1];
    },
  };
  return feeder;
}

/** The request headers of one request of `load`, taking a fresh token from `feeder` if needed. */
function headersFor(load, feeder) {
  if (load === 'bearer') return { authorization: `Bearer ${bearer}` };
  if (load === 'bearer-fresh') return { authorization: `Bearer ${feeder.take()}` };
  return { 'workload-identity-token': wits[load], authorization: `WPT ${feeder.take()}` };
}

/** A few fresh tokens for the preflight checks. */
function mintPreflight(variant) {
  return tokenFeeder(
    variant.load === 'bearer-fresh'
      ? mintBearerTokens(issuer, 4)
      : mintProofs(wits[variant.load], callers[variant.load], 4),
  );
}

/** Pre-mints what `variant` sends in one load of `seconds`: fresh tokens, or nothing. */
function mintFor(variant, measuredPeak, seconds) {
  if (variant.load === 'bearer') return undefined;
  // Sized from the variant's own peak once it has one, else from its platform's ceiling.
  const perSecond =
    measuredPeak === undefined
      ? Math.max(ceilingPeaks.get(variant.platform) ?? 20_000, 1000) * 1.5
      : Math.max(measuredPeak, 500) * 2;
  const count = PROOFS || Math.ceil(perSecond * (Math.ceil(seconds) + 1)) + CONNECTIONS * 4;
  const lifetime = Math.min(290, Math.max(120, Math.ceil(seconds) + 90));
  const t0 = performance.now();
  const tokens =
    variant.load === 'bearer-fresh'
      ? mintBearerTokens(issuer, count, lifetime)
      : mintProofs(wits[variant.load], callers[variant.load], count, lifetime);
  if (performance.now() - t0 > 1000) {
    console.log(`    (minted ${count} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return tokenFeeder(tokens);
}

/**
 * Checks that the server enforces what it is measured for: no credential is refused (except
 * by the ceiling), the credential is accepted, and (WPT) a replayed proof is refused.
 */
async function preflight(variant, port, feeder) {
  const problems = [];
  const anonymous = await get(port, {});
  const expectAnonymous = variant.kind === 'ceiling' || variant.kind === 'reference' ? 200 : 401;
  if (anonymous.status !== expectAnonymous) {
    problems.push(`no credential: HTTP ${anonymous.status}, expected ${expectAnonymous}`);
  }
  const headers = headersFor(variant.load, feeder);
  const accepted = await get(port, headers);
  if (accepted.status !== 200 || accepted.body !== '{"ok":true}') {
    problems.push(`credential: HTTP ${accepted.status} ${accepted.body.slice(0, 300)}`);
  }
  if (variant.load.startsWith('wpt')) {
    const replayed = await get(port, headers);
    if (replayed.status !== 401) problems.push(`replayed proof: HTTP ${replayed.status}, expected 401`);
  }
  if (problems.length > 0) throw new Error(`preflight failed: ${problems.join('; ')}`);
}

/** Loads the server for `duration` seconds; latencies of every response kept (ms, float). */
async function load(variant, port, duration, feeder) {
  const request = { method: 'GET', path: ROUTE };
  if (feeder) {
    // Called by autocannon before every request it sends: a fresh token each time.
    request.setupRequest = (req) => ({
      ...req,
      headers: { ...req.headers, ...headersFor(variant.load, feeder) },
    });
  } else {
    request.headers = headersFor(variant.load); // the same bearer token every time
  }
  const latencies = [];
  const tracker = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
    requests: [request],
  });
  tracker.on('response', (_client, _status, _bytes, responseTime) => {
    latencies.push(responseTime);
  });
  const result = await tracker;
  return { result, latencies };
}

function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function problemsOf(result, phase) {
  const problems = [];
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, { count }]) => `${count}× ${code}`);
    problems.push(`${phase}: ${result.non2xx} non-2xx responses (${codes.join(', ')})`);
  }
  if (result.errors > 0) problems.push(`${phase}: ${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${phase}: ${result.timeouts} timeouts`);
  if (result['2xx'] === 0) problems.push(`${phase}: no 2xx response at all`);
  return problems;
}

const rows = [];
const failures = [];
const skipped = [];
// Highest per-second rate of each platform's ceiling: sizes the fresh-token supply.
const ceilingPeaks = new Map();
const started = Date.now();
const header =
  `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ` +
  `${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s measured per variant in ${SLICES} ` +
  `interleaved slice${SLICES === 1 ? '' : 's'} of ${WARMUP} s warmup + ${SLICE_SECONDS} s measured, 127.0.0.1`;
console.log(`HTTP benchmark — ${header}${SMOKE ? ' (smoke)' : ''}`);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Starts and preflights one variant's server; undefined (and the failure recorded) if it cannot. */
async function prepare(variant) {
  if (variant.needsRedis && !redis) {
    skipped.push(`${variant.label}: no Redis (set WIMSE_REDIS_URL or install redis-server)`);
    console.log(`- ${variant.label}: skipped, no Redis`);
    return undefined;
  }
  const server = await startServer(variant.server).catch((error) => ({ error }));
  if (server.error) {
    failures.push(`${variant.label}: ${server.error.message}`);
    console.log(`✗ ${variant.label}: ${server.error.message}`);
    return undefined;
  }
  try {
    await preflight(variant, server.port, variant.load === 'bearer' ? undefined : mintPreflight(variant));
  } catch (error) {
    failures.push(`${variant.label}: ${error.message}`);
    console.log(`✗ ${variant.label}: ${error.message}`);
    await stopServer(server.child);
    return undefined;
  }
  return { variant, server, rps: [], byRound: [], latencies: [], others: [], problems: [] };
}

/** Starts a variant's round: no slice measured yet. */
function openRound(entry) {
  entry.slices = [];
  entry.roundCpu = { server: 0, runner: 0, others: 0 };
}

/**
 * One slice of a variant's round: a warmup (load that is sent and checked, but not measured:
 * the server was idle while the other variants took their turns), then one measured slice,
 * each with freshly minted tokens if the variant needs them.
 */
async function measureSlice(entry, round) {
  const { variant, server } = entry;
  if (WARMUP > 0) {
    const feeder = mintFor(variant, entry.peak, WARMUP);
    const { result } = await load(variant, server.port, WARMUP, feeder);
    entry.problems.push(...problemsOf(result, `round ${round + 1} warmup`));
    exhausted(entry, feeder);
    entry.peak = Math.max(entry.peak ?? 0, result.requests.max);
  }
  const feeder = mintFor(variant, entry.peak, SLICE_SECONDS);
  const {
    value: { result, latencies },
    others,
    runner,
    server: serverCpu,
  } = await watchingOthers(server.child, () => load(variant, server.port, SLICE_SECONDS, feeder));
  entry.problems.push(...problemsOf(result, `round ${round + 1}`));
  exhausted(entry, feeder);
  entry.slices.push(result.requests.mean);
  entry.peak = Math.max(entry.peak ?? 0, result.requests.max);
  for (const latency of latencies) entry.latencies.push(latency);
  entry.others.push(others);
  entry.roundCpu.server += serverCpu / SLICES;
  entry.roundCpu.runner += runner / SLICES;
  entry.roundCpu.others = Math.max(entry.roundCpu.others, others);
  if (variant.kind === 'ceiling') {
    ceilingPeaks.set(
      variant.platform,
      Math.max(ceilingPeaks.get(variant.platform) ?? 0, result.requests.max),
    );
  }
}

function exhausted(entry, feeder) {
  if (feeder?.exhausted) {
    entry.problems.push(`ran out of pre-minted tokens after ${feeder.used}; set BENCH_HTTP_PROOFS higher`);
  }
}

/**
 * A variant's req/s in one round: the median of its slices (each autocannon's per-second
 * mean), so that a dip of the machine lasting a second, which falls on one slice, does not
 * move it.
 */
function closeRound(entry, round) {
  const { variant, slices, roundCpu } = entry;
  if (slices.length < SLICES) return;
  const rps = median(slices);
  entry.rps.push(rps);
  entry.byRound[round] = rps;
  console.log(
    `    round ${round + 1}/${ROUNDS} ${variant.label}: ${rps.toFixed(0)} req/s, CPU: server ` +
      `${roundCpu.server.toFixed(2)}, autocannon ${roundCpu.runner.toFixed(2)}, other processes ` +
      `${roundCpu.others.toFixed(2)}`,
  );
}

// Per platform: every server started once, then ROUNDS rounds. In a round the measured seconds
// of every variant are taken in slices (1 s by default, each after its own warmup), the
// variants taking turns slice by slice: the speed of a shared or virtual machine drifts within
// a minute, and interleaving spreads each drift over all variants of the round instead of the
// one measured at the time. The order rotates every turn and every round. A row's req/s is the
// median of its rounds.
const platforms = [...new Set(selected.map((variant) => variant.platform))];
for (const platform of platforms) {
  const entries = [];
  for (const variant of selected.filter((v) => v.platform === platform)) {
    const entry = await prepare(variant);
    if (entry) entries.push(entry);
  }
  const rotated = (shift) => {
    const at = shift % Math.max(1, entries.length);
    return [...entries.slice(at), ...entries.slice(0, at)];
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const entry of entries) openRound(entry);
      for (let turn = 0; turn < SLICES; turn++) {
        for (const entry of rotated(round + turn)) {
          if (entry.broken === round) continue;
          try {
            await measureSlice(entry, round);
          } catch (error) {
            entry.problems.push(`round ${round + 1}: ${error.message}`);
            entry.broken = round;
          }
        }
      }
      for (const entry of entries) closeRound(entry, round);
    }
    for (const entry of entries) {
      const { variant, server, problems } = entry;
      const { rss } = await childStats(server.child);
      const row = {
        ...variant,
        rps: entry.rps.length > 0 ? median(entry.rps) : 0,
        byRound: entry.byRound,
        p50: percentile(entry.latencies, 50),
        p99: percentile(entry.latencies, 99),
        rss,
        others: Math.max(0, ...entry.others),
        failed: problems.length > 0 || entry.rps.length < ROUNDS,
      };
      rows.push(row);
      console.log(
        `${row.failed ? '✗' : '✓'} ${variant.label}: ${row.rps.toFixed(0)} req/s (median of ` +
          `${entry.rps.map((value) => value.toFixed(0)).join(', ')}), p50 ${row.p50.toFixed(2)} ms, ` +
          `p99 ${row.p99.toFixed(2)} ms, RSS ${(rss / 2 ** 20).toFixed(0)} MB` +
          (row.failed ? ` — ${problems.join('; ')}` : ''),
      );
      for (const problem of problems) failures.push(`${variant.label}: ${problem}`);
    }
  } finally {
    for (const entry of entries) await stopServer(entry.server.child);
  }
}
await redis?.stop();

// Ratios only against variants that ran clean, each against its own platform.
const clean = rows.filter((row) => !row.failed);
const ceilings = new Map(clean.filter((r) => r.kind === 'ceiling').map((r) => [r.platform, r]));
const fastestPeers = new Map();
for (const row of clean.filter((r) => r.kind === 'peer')) {
  if (!(fastestPeers.get(row.platform)?.rps >= row.rps)) fastestPeers.set(row.platform, row);
}
const reference = (row, against) => (against === 'peer' ? fastestPeers : ceilings).get(row.platform);
// A row against its reference is the median of the ratios of the rounds, whose slices were
// interleaved: a slow spell of the machine then lowers both sides of a ratio instead of one
// side of a ratio of medians.
const pairedRatio = (row, ref) => {
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const value = row.byRound[round];
    const base = ref.byRound[round];
    if (value !== undefined && base !== undefined && base > 0) ratios.push(value / base);
  }
  return ratios.length > 0 ? median(ratios) : undefined;
};
const ratio = (row, ref) => {
  if (row.failed || !ref) return '–';
  const value = pairedRatio(row, ref);
  return value === undefined ? '–' : value.toFixed(2);
};
const verdict = (row) => {
  if (!row.target) return '';
  const ref = reference(row, row.target.against);
  const achieved = row.failed || !ref ? undefined : pairedRatio(row, ref);
  if (achieved === undefined) return '–';
  return `${achieved >= row.target.ratio ? 'pass' : 'MISS'} (≥ ${row.target.ratio.toFixed(2)} × ${row.target.against})`;
};
const columns = [
  ['variant', 36, (r) => r.label + (r.failed ? ' (FAILED)' : '')],
  ['req/s', 7, (r) => r.rps.toFixed(0)],
  ['p50 ms', 7, (r) => r.p50.toFixed(2)],
  ['p99 ms', 7, (r) => r.p99.toFixed(2)],
  ['RSS MB', 7, (r) => (r.rss / 2 ** 20).toFixed(0)],
  ['×ceiling', 9, (r) => ratio(r, ceilings.get(r.platform))],
  ['×peer', 6, (r) => ratio(r, fastestPeers.get(r.platform))],
  ['target', 26, verdict],
  ['other CPU', 9, (r) => r.others.toFixed(2)],
];
const line = (cells) =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(columns[0][1]) : cell.padStart(columns[i][1]))).join(' ');
console.log(`\n${line(columns.map(([title]) => title))}`);
for (const row of rows) console.log(line(columns.map(([, , cell]) => cell(row))));
const peerList =
  [...fastestPeers].map(([platform, peer]) => `${platform}: ${peer.label}`).join('; ') || 'none measured';
const notes = [
  `req/s: the median over the rounds of the median of the round's ${SLICES} slices, each ` +
    `autocannon's mean of per-second counts (the variants take turns slice by slice, in an order ` +
    `that rotates); p50/p99: from every response's latency; RSS: the ` +
    `server process after its last round. ×ceiling: against the same platform's unauthenticated ` +
    `row; ×peer: against the fastest bearer peer on the same platform (${peerList}); each is the ` +
    `median over the rounds of the ratio of the two rows' req/s in that round.`,
  `Peers and "fresh" rows get a new ES256 bearer JWT (a JWT-SVID with iss and jti) on every request, so ` +
    `every request verifies a signature. "repeated": the same token every request (callers reuse ` +
    `bearer tokens) — our verified-token cache checks the signature twice (a token is cached from its second verification), then aud and time per request. ` +
    `WIT+WPT: one WIT (cached), a fresh pre-minted proof per request, replay store on (in memory, or ` +
    `Redis through @wimse-auth/redis and ioredis).`,
  `other CPU: cores used by processes other than the runner and the server during the measurement.`,
];
for (const note of notes) console.log(`\n${note}`);
const busiest = Math.max(0, ...rows.map((row) => row.others));
const disturbed = busiest > 0.15;
if (disturbed) {
  console.log(
    `\nWARNING: other processes used up to ${busiest.toFixed(2)} CPU during the measurements; ` +
      `the load generator and the server each need a core, so the figures above are disturbed. ` +
      `Re-run on a quiet machine.`,
  );
}
for (const note of skipped) console.log(`\nSkipped: ${note}`);
console.log(`\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.`);

// A full, clean run is the record quoted by docs/performance.md.
if (!SMOKE && !only && failures.length === 0) {
  const cells = (row) => columns.map(([, , cell]) => cell(row).replace(/\|/g, '\\|'));
  const markdown = [
    '# HTTP benchmark — latest full run',
    '',
    `Written by \`npm run bench:http\` on ${new Date().toISOString().slice(0, 10)}: ${header}.`,
    '',
    `| ${columns.map(([title]) => title).join(' | ')} |`,
    `| --- | ${columns
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
    ...rows.map((row) => `| ${cells(row).join(' | ')} |`),
    '',
    ...notes.flatMap((note) => [note, '']),
    ...(disturbed ? [`Other processes used up to ${busiest.toFixed(2)} CPU: figures disturbed.`, ''] : []),
    ...skipped.map((note) => `Skipped: ${note}`),
  ].join('\n');
  const file = new URL('../results/latest.md', import.meta.url);
  mkdirSync(new URL('.', file), { recursive: true });
  writeFileSync(file, `${markdown.trimEnd()}\n`);
  console.log(`Saved ${fileURLToPath(file)}.`);
}

if (failures.length > 0) {
  console.error(`\nBENCHMARK FAILED — these variants are not measurements of successful requests:`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exitCode = 1;
}
