// A real Redis for tests: `WIMSE_REDIS_URL` (what .ci/run exports), or a redis-server child this
// process starts on a free loopback port. Without either, tests skip locally but FAIL under CI=true.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

const START_DEADLINE_MS = 10_000;

/** The redis-server binary on PATH, or undefined. */
export function redisServerBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const binary = found.stdout.trim();
  return found.status === 0 && binary !== '' ? binary : undefined;
}

/** True when CI demands that Redis-backed tests run rather than skip. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends `PING` over a raw socket; resolves true on `+PONG` within `timeoutMs`. */
export function ping(port: number, timeoutMs = 500, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString('utf8').startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

/** Polls `check` every 50 ms until it is true; throws after `deadlineMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  deadlineMs = START_DEADLINE_MS,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

/** A redis-server child on 127.0.0.1 that can be stopped and started again on the same port. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL) and waits until the port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
}

/** Starts redis-server (no persistence) on a free loopback port. */
export async function startOwnRedis(binary = redisServerBinary()): Promise<OwnRedis> {
  if (binary === undefined) throw new Error('redis-server is not installed');
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitFor(`redis-server on port ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      return ping(port);
    });
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
    await waitFor(`port ${port} to close`, async () => !(await ping(port, 200)));
  };

  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}

/** Where Redis-backed tests connect, and how to release what was started for them. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `WIMSE_REDIS_URL` if set (it must answer PING), else a redis-server child if the binary exists.
 * Resolves `undefined` (tests skip) only outside CI; under CI=true a missing Redis throws.
 */
export async function testRedis(): Promise<TestRedis | undefined> {
  const fromEnv = process.env.WIMSE_REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') {
    const url = new URL(fromEnv);
    const port = Number(url.port || 6379);
    if (!(await ping(port, 2000, url.hostname)))
      throw new Error(`WIMSE_REDIS_URL=${fromEnv} does not answer PING`);
    return { url: fromEnv, port, close: async () => {} };
  }
  const binary = redisServerBinary();
  if (binary === undefined) {
    if (IN_CI) throw new Error('CI=true but neither WIMSE_REDIS_URL nor redis-server is available');
    return undefined;
  }
  const own = await startOwnRedis(binary);
  return { url: own.url, port: own.port, close: own.stop };
}
