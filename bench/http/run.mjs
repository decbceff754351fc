// HTTP benchmark: the same Express route (GET /orders, same JSON handler) behind
// @wimse-auth/express, @wimse-auth/passport, express-oauth2-jwt-bearer, passport-jwt and no
// authentication at all, plus the same route in a Nest app (Express platform) behind
// @wimse-auth/nestjs's WimseGuard or @nestjs/passport's AuthGuard('jwt') with passport-jwt,
// each loaded over loopback with autocannon in one run. Every server
// variant runs alone in its own child process (server.mjs) while this process drives the load,
// so the two never share a core with a third party. Figures are reported as ratios against
// the unauthenticated ceiling and the fastest peer on the same platform (Express or Nest)
// measured in the same run.
//
// Run with `npm run bench:http` (builds first). See bench/README.md for the environment knobs.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { bearerToken, es256KeyPair, mintProofs, ROUTE, workloadIdentityToken } from './tokens.mjs';

const env = process.env;
const SMOKE = env.BENCH_HTTP_SMOKE === '1';
const number = (name, fallback) => {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const DURATION = number('BENCH_HTTP_DURATION', SMOKE ? 1 : 8); // seconds per variant, measured
const WARMUP = number('BENCH_HTTP_WARMUP', SMOKE ? 1 : 2); // seconds per variant, discarded
const CONNECTIONS = number('BENCH_HTTP_CONNECTIONS', 10);
const PROOFS = number('BENCH_HTTP_PROOFS', 0); // 0: sized from the ceiling's rate
if (DURATION < 1) throw new Error('BENCH_HTTP_DURATION must be at least 1 second');
if (CONNECTIONS < 1) throw new Error('BENCH_HTTP_CONNECTIONS must be at least 1');

// kind: 'ceiling' (no authentication), 'peer' (another library's bearer path), 'ours'.
// platform: 'express' (a plain Express app) or 'nest' (a Nest app on @nestjs/platform-express);
// ×peer compares each row with the fastest peer of its own platform.
const VARIANTS = [
  { id: 'ceiling', label: 'express, no auth (ceiling)', server: 'ceiling', load: 'bearer', kind: 'ceiling' },
  {
    id: 'oauth2-jwt-bearer',
    label: 'express-oauth2-jwt-bearer, ES256 JWT',
    server: 'oauth2-jwt-bearer',
    load: 'bearer',
    kind: 'peer',
  },
  {
    id: 'passport-jwt',
    label: 'passport-jwt, ES256 JWT',
    server: 'passport-jwt',
    load: 'bearer',
    kind: 'peer',
  },
  {
    id: 'wimse-svid',
    label: 'wimse() JWT-SVID, cached',
    server: 'wimse',
    load: 'bearer',
    kind: 'ours',
    path: 'JWT-SVID',
  },
  {
    id: 'wimse-svid-nocache',
    label: 'wimse() JWT-SVID, cache off',
    server: 'wimse-nocache',
    load: 'bearer',
    kind: 'ours',
    path: 'JWT-SVID',
  },
  { id: 'wimse-wpt', label: 'wimse() WIT+WPT', server: 'wimse', load: 'wpt', kind: 'ours', path: 'WIT+WPT' },
  {
    id: 'passport-wimse-svid',
    label: "passport 'wimse' JWT-SVID, cached",
    server: 'passport-wimse',
    load: 'bearer',
    kind: 'ours',
    path: 'JWT-SVID',
  },
  {
    id: 'passport-wimse-wpt',
    label: "passport 'wimse' WIT+WPT",
    server: 'passport-wimse',
    load: 'wpt',
    kind: 'ours',
    path: 'WIT+WPT',
  },
  {
    id: 'nest-passport-jwt',
    label: "Nest AuthGuard('jwt'), passport-jwt",
    server: 'nest-passport-jwt',
    load: 'bearer',
    kind: 'peer',
    platform: 'nest',
  },
  {
    id: 'nest-wimse-svid',
    label: 'Nest WimseGuard JWT-SVID, cached',
    server: 'nest-wimse',
    load: 'bearer',
    kind: 'ours',
    path: 'JWT-SVID',
    platform: 'nest',
  },
  {
    id: 'nest-wimse-wpt',
    label: 'Nest WimseGuard WIT+WPT',
    server: 'nest-wimse',
    load: 'wpt',
    kind: 'ours',
    path: 'WIT+WPT',
    platform: 'nest',
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
const workload = es256KeyPair();
const bearer = bearerToken(issuer);
const wit = workloadIdentityToken(issuer, workload);
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

function startServer(name) {
  const child = fork(SERVER, [name], {
    execPath: process.execPath,
    env: { ...env, BENCH_HTTP_ISSUER_JWK: JSON.stringify(issuer.jwk) },
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

/** CPU time (ms) the child has used so far. */
function childCpu(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cpu) {
        child.off('message', onMessage);
        resolve((message.cpu.user + message.cpu.system) / 1000);
      }
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
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

/** Hands out each pre-minted proof once; running out is reported as a failure. */
function proofFeeder(proofs) {
  let next = 0;
  const feeder = {
    exhausted: false,
    get used() {
      return next;
    },
    take() {
      if (next < proofs.length) return proofs[next++];
      // Reusing a proof gets a 401 (replay), which fails the run below; the flag says why.
      feeder.exhausted = true;
      return proofs[proofs.length - 1];
    },
  };
  return feeder;
}

const wptHeaders = (proof) => ({ 'workload-identity-token': wit, authorization: `WPT ${proof}` });
const bearerHeaders = { authorization: `Bearer ${bearer}` };

/**
 * Checks that the server enforces what it is measured for: no credential is refused (except
 * by the ceiling), the credential is accepted, and (WPT) a replayed proof is refused.
 */
async function preflight(variant, port, feeder) {
  const problems = [];
  const anonymous = await get(port, {});
  const expectAnonymous = variant.kind === 'ceiling' ? 200 : 401;
  if (anonymous.status !== expectAnonymous) {
    problems.push(`no credential: HTTP ${anonymous.status}, expected ${expectAnonymous}`);
  }
  const proof = variant.load === 'wpt' ? feeder.take() : undefined;
  const headers = proof ? wptHeaders(proof) : bearerHeaders;
  const accepted = await get(port, headers);
  if (accepted.status !== 200 || accepted.body !== '{"ok":true}') {
    problems.push(`credential: HTTP ${accepted.status} ${accepted.body.slice(0, 300)}`);
  }
  if (proof) {
    const replayed = await get(port, headers);
    if (replayed.status !== 401) problems.push(`replayed proof: HTTP ${replayed.status}, expected 401`);
  }
  if (problems.length > 0) throw new Error(`preflight failed: ${problems.join('; ')}`);
}

/** Loads the server for `duration` seconds; latencies of every response kept (ms, float). */
async function load(variant, port, duration, feeder) {
  const request = { method: 'GET', path: ROUTE };
  if (variant.load === 'wpt') {
    // Called by autocannon before every request it sends: a fresh proof each time.
    request.setupRequest = (req) => ({ ...req, headers: { ...req.headers, ...wptHeaders(feeder.take()) } });
  } else {
    request.headers = bearerHeaders; // the same bearer token every time, as a real caller does
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
let ceilingPeak; // highest per-second rate of the ceiling: no authenticated variant goes faster
const started = Date.now();
console.log(
  `HTTP benchmark — node ${process.version}, ${os.cpus().length} CPUs, ${CONNECTIONS} connections, ` +
    `${WARMUP} s warmup + ${DURATION} s measured per variant, 127.0.0.1${SMOKE ? ' (smoke)' : ''}`,
);

for (const variant of selected) {
  let feeder;
  if (variant.load === 'wpt') {
    const perSecond = Math.max(ceilingPeak ?? 20_000, 1000) * 1.5;
    const count =
      PROOFS || Math.ceil(perSecond * (Math.ceil(WARMUP) + Math.ceil(DURATION) + 1)) + CONNECTIONS * 4;
    const lifetime = Math.min(290, Math.max(120, Math.ceil(WARMUP + DURATION) + 90));
    const t0 = performance.now();
    feeder = proofFeeder(mintProofs(wit, workload, count, lifetime));
    console.log(`  minted ${count} proofs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const server = await startServer(variant.server).catch((error) => ({ error }));
  if (server.error) {
    failures.push(`${variant.label}: ${server.error.message}`);
    console.log(`✗ ${variant.label}: ${server.error.message}`);
    continue;
  }
  try {
    await preflight(variant, server.port, feeder);
    const problems = [];
    if (WARMUP > 0)
      problems.push(...problemsOf((await load(variant, server.port, WARMUP, feeder)).result, 'warmup'));
    const {
      value: { result, latencies },
      others,
      runner,
      server: serverCpu,
    } = await watchingOthers(server.child, () => load(variant, server.port, DURATION, feeder));
    problems.push(...problemsOf(result, 'run'));
    if (feeder?.exhausted) {
      problems.push(`ran out of pre-minted proofs after ${feeder.used}; set BENCH_HTTP_PROOFS higher`);
    }
    const row = {
      ...variant,
      rps: result.requests.mean,
      p99: percentile(latencies, 99),
      non2xx: result.non2xx,
      total: result['2xx'],
      others,
      failed: problems.length > 0,
    };
    rows.push(row);
    if (variant.kind === 'ceiling' && !row.failed) ceilingPeak = Math.max(result.requests.max, row.rps);
    console.log(
      `${row.failed ? '✗' : '✓'} ${variant.label}: ${row.rps.toFixed(0)} req/s, p99 ${row.p99.toFixed(2)} ms, ` +
        `CPU: server ${serverCpu.toFixed(2)}, autocannon ${runner.toFixed(2)}, other processes ${others.toFixed(2)}` +
        (row.failed ? ` — ${problems.join('; ')}` : ''),
    );
    for (const problem of problems) failures.push(`${variant.label}: ${problem}`);
  } catch (error) {
    failures.push(`${variant.label}: ${error.message}`);
    console.log(`✗ ${variant.label}: ${error.message}`);
  } finally {
    await stopServer(server.child);
  }
}

// Ratios only against variants that ran clean.
const clean = rows.filter((row) => !row.failed);
const ceiling = clean.find((row) => row.kind === 'ceiling');
/** The fastest clean peer per platform: each row's ×peer reference. */
const fastestPeers = new Map();
for (const row of clean.filter((r) => r.kind === 'peer')) {
  if (!(fastestPeers.get(row.platform)?.rps >= row.rps)) fastestPeers.set(row.platform, row);
}
const peerOf = (row) => fastestPeers.get(row.platform);
const ratio = (value, reference) => (reference ? (value / reference).toFixed(2) : '–');
const columns = [
  ['variant', 38, (r) => r.label + (r.failed ? ' (FAILED)' : '')],
  ['req/s', 8, (r) => r.rps.toFixed(0)],
  ['p99 ms', 7, (r) => r.p99.toFixed(2)],
  ['non-2xx', 8, (r) => String(r.non2xx)],
  ['req/s ×ceil', 12, (r) => (r.failed ? '–' : ratio(r.rps, ceiling?.rps))],
  ['req/s ×peer', 12, (r) => (r.failed ? '–' : ratio(r.rps, peerOf(r)?.rps))],
  ['p99 ×ceil', 10, (r) => (r.failed ? '–' : ratio(r.p99, ceiling?.p99))],
  ['p99 ×peer', 10, (r) => (r.failed ? '–' : ratio(r.p99, peerOf(r)?.p99))],
  ['other CPU', 10, (r) => r.others.toFixed(2)],
];
const peerList =
  [...fastestPeers].map(([platform, peer]) => `${platform}: ${peer.label}`).join('; ') || 'none measured';
const line = (cells) =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(columns[0][1]) : cell.padStart(columns[i][1]))).join(' ');
console.log(`\n${line(columns.map(([title]) => title))}`);
for (const row of rows) console.log(line(columns.map(([, , cell]) => cell(row))));
console.log(
  `\nreq/s: autocannon's mean of per-second counts; p99: from every response's latency. ×peer is ` +
    `against the fastest peer on the row's platform (${peerList}); p99 ratios below 1 are better. ` +
    `×ceil is against the Express ceiling for every row.\n` +
    `"cached": the same bearer token on every request (as real callers reuse them) hits the core's ` +
    `verified-token cache — signature verified once, aud and exp re-checked per request. The peers do ` +
    `not cache; "cache off" (cacheSize: { jwtSvid: 0 }) verifies every request as they do. WIT+WPT: ` +
    `a fresh pre-minted proof per request, same WIT (cached), replay store on.\n` +
    `other CPU: cores used by processes other than the runner and the server during the measurement.`,
);
const busiest = Math.max(0, ...rows.map((row) => row.others));
if (busiest > 0.15) {
  console.log(
    `\nWARNING: other processes used up to ${busiest.toFixed(2)} CPU during the measurements; ` +
      `the load generator and the server each need a core, so the figures above are disturbed. ` +
      `Re-run on a quiet machine.`,
  );
}

for (const [platform, fastestPeer] of fastestPeers) {
  const ours = clean.filter((r) => r.kind === 'ours' && r.platform === platform);
  if (ours.length === 0) continue;
  console.log(`\nTargets (req/s against ${fastestPeer.label}, ${fastestPeer.rps.toFixed(0)} req/s):`);
  for (const row of ours) {
    const goal = row.path === 'JWT-SVID' ? 1 : 0.8;
    const achieved = row.rps / fastestPeer.rps;
    console.log(
      `  ${row.path.padEnd(9)} ${row.label.padEnd(36)} ${achieved.toFixed(2)} × peer  (target ≥ ${goal.toFixed(2)})  ${
        achieved >= goal ? 'pass' : 'MISS'
      }`,
    );
  }
}
console.log(`\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.`);

if (failures.length > 0) {
  console.error(`\nBENCHMARK FAILED — these variants are not measurements of successful requests:`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exitCode = 1;
}
