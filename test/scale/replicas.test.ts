// Multi-replica proof: two separate Node processes (replica-server.mjs: Express + @wimse-auth/express
// + @wimse-auth/redis, one on ioredis, one on node-redis) share one Redis that this test starts on
// its own port (never the CI one, because it is killed mid-run). A proof accepted by one replica
// is a replay at the other; with Redis gone both fail closed (503) without crashing, and recover.
//
// Needs the build (`npm run build` at the root) and the redis-server binary (CI installs it).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../support/trust-domain.js';
import { IN_CI, type OwnRedis, redisServerBinary, startOwnRedis, waitFor } from './redis-server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SERVER = path.join(HERE, 'replica-server.mjs');
const ORIGIN = 'https://orders.internal.example.org';
const REQUEST_TIMEOUT_MS = 5000;

const binary = redisServerBinary();
if (binary === undefined && IN_CI) throw new Error('CI=true but redis-server is not installed');

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly base: string;
  stderr(): string;
}

function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica ${name} did not start within 15 s\n${stderr}`));
    }, 15_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited (${code ?? signal}) before listening\n${stderr}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(timer);
      const { port } = JSON.parse(line) as { port: number };
      resolve({ name, child, base: `http://127.0.0.1:${port}`, stderr: () => stderr });
    });
  });
}

function alive(replica: Replica): boolean {
  return replica.child.exitCode === null && replica.child.signalCode === null;
}

async function call(
  replica: Replica,
  headers: Record<string, string>,
): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${replica.base}/orders`, {
    headers,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await response.json()) as { code?: string };
  return body.code === undefined ? { status: response.status } : { status: response.status, code: body.code };
}

const td = createTestTrustDomain();
const proof = () => td.proofHeaders(`${ORIGIN}/orders`);
let redis: OwnRedis | undefined;
let dir = '';
const replicas: Replica[] = [];

describe.skipIf(binary === undefined)('two replicas sharing one Redis', () => {
  beforeAll(async () => {
    for (const pkg of ['core', 'express', 'redis']) {
      if (!existsSync(path.join(ROOT, 'packages', pkg, 'dist', 'index.js'))) {
        throw new Error(`packages/${pkg}/dist is not built: run \`npm run build\` at the repository root`);
      }
    }
    redis = await startOwnRedis(binary);
    dir = mkdtempSync(path.join(tmpdir(), 'wimse-replicas-'));
    const bundle = path.join(dir, 'bundle.json');
    writeFileSync(bundle, JSON.stringify(td.bundle));
    const env = { WIMSE_BUNDLE: bundle, WIMSE_REDIS_URL: redis.url, WIMSE_ORIGIN: ORIGIN };
    replicas.push(
      ...(await Promise.all([
        startReplica('A', { ...env, WIMSE_REDIS_CLIENT: 'ioredis' }),
        startReplica('B', { ...env, WIMSE_REDIS_CLIENT: 'node-redis' }),
      ])),
    );
  }, 30_000);

  afterAll(async () => {
    await Promise.all(
      replicas.map(
        (replica) =>
          new Promise<void>((resolve) => {
            if (!alive(replica)) return resolve();
            const timer = setTimeout(() => replica.child.kill('SIGKILL'), 3000);
            replica.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            replica.child.kill('SIGTERM');
          }),
      ),
    );
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are separate processes', () => {
    const [a, b] = replicas;
    expect(a?.child.pid).toBeTypeOf('number');
    expect(a?.child.pid).not.toBe(b?.child.pid);
    expect(a?.base).not.toBe(b?.base);
  });

  it('a proof accepted by replica A is replay_detected at replica B (and at A)', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const headers = proof();
    expect(await call(a, headers)).toEqual({ status: 200 });
    expect(await call(b, headers)).toEqual({ status: 401, code: 'replay_detected' });
    expect(await call(a, headers)).toEqual({ status: 401, code: 'replay_detected' });

    const other = proof();
    expect(await call(b, other)).toEqual({ status: 200 });
    expect(await call(a, other)).toEqual({ status: 401, code: 'replay_detected' });
  });

  it('one proof sent 10 times concurrently to both replicas: exactly one 200', async () => {
    const headers = proof();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(replicas[i % 2] as Replica, headers)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.code === 'replay_detected')).toHaveLength(9);
  });

  it('Redis killed: both fail closed with 503 trust_unavailable, stay up, and recover when it returns', async () => {
    const own = redis as OwnRedis;
    await own.stop();
    for (const replica of replicas) {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect(await call(replica, proof()), replica.name).toEqual({
          status: 503,
          code: 'trust_unavailable',
        });
        expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS);
      }
      expect(alive(replica), `${replica.name} crashed:\n${replica.stderr()}`).toBe(true);
    }

    await own.start();
    for (const replica of replicas) {
      await waitFor(`replica ${replica.name} to accept proofs again`, async () => {
        const { status } = await call(replica, proof());
        expect([200, 503]).toContain(status);
        return status === 200;
      });
    }
    for (const replica of replicas) expect(alive(replica), replica.stderr()).toBe(true);

    // Shared replay protection works again after the outage.
    const [a, b] = replicas as [Replica, Replica];
    const headers = proof();
    expect(await call(b, headers)).toEqual({ status: 200 });
    expect(await call(a, headers)).toEqual({ status: 401, code: 'replay_detected' });
  }, 30_000);
});
