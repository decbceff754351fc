// Runs an example folder the way a reader does (`npm start`), on ephemeral ports, either in its
// self-contained mode (local trust domain, client calls, exit) or serving a configured trust domain.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestTrustDomain, type TestTrustDomain } from '@wimse-auth/testing';

const run = promisify(execFile);
const examplesRoot = fileURLToPath(new URL('../../examples/', import.meta.url));

/** The environment without any of the examples' variables, plus ephemeral ports. */
function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', PROXY_PORT: '0' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('WIMSE_') || name.startsWith('TLS_')) delete env[name];
  }
  return { ...env, ...extra };
}

/** `npm start` in the example's folder with no configuration; rejects on a non-zero exit. */
export async function startExample(name: string): Promise<string> {
  const { stdout } = await run('npm', ['start', '--silent'], {
    cwd: join(examplesRoot, name),
    env: exampleEnv(),
    timeout: 20_000,
  });
  return stdout;
}

export interface ServingExample {
  /** The example service's own (plain HTTP) URL, as printed on start-up. */
  url: string;
  /** What the example printed until it started serving. */
  output: string;
  /** The trust domain whose bundle file the example was pointed at. */
  trustDomain: TestTrustDomain;
  stop(): Promise<void>;
}

/**
 * Starts the example against a "real" trust domain: its bundle in a file named by
 * WIMSE_BUNDLE_FILE, plus the other documented variables. The example then only serves.
 */
export async function serveExample(name: string, variables: Record<string, string>): Promise<ServingExample> {
  const trustDomainName = variables.WIMSE_TRUST_DOMAIN ?? 'example.org';
  const trustDomain = createTestTrustDomain(trustDomainName);
  const directory = mkdtempSync(join(tmpdir(), 'wimse-example-test-'));
  const bundleFile = join(directory, 'bundle.json');
  writeFileSync(bundleFile, JSON.stringify(trustDomain.bundle));

  const child = spawn(process.execPath, ['run.mjs'], {
    cwd: join(examplesRoot, name),
    env: exampleEnv({ ...variables, WIMSE_BUNDLE_FILE: bundleFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
    rmSync(directory, { recursive: true, force: true });
  };
  let output = '';
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start serving:\n${output}`)), 10_000);
      child.on('exit', () => reject(new Error(`${name} exited:\n${output}`)));
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('serving until stopped')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (url === undefined) {
    await stop();
    throw new Error(`${name} printed no URL:\n${output}`);
  }
  return { url, output, trustDomain, stop };
}

/** The documented variables pointing an example at another trust domain and other audiences. */
export const productionLikeVariables = {
  WIMSE_TRUST_DOMAIN: 'prod.example.com',
  WIMSE_AUDIENCE_ORIGINS: 'https://svc.prod.example.com, https://svc.example.com',
  WIMSE_JWT_SVID_AUDIENCE: 'spiffe://prod.example.com/svc',
};

/** Tokens never reach the output: nothing that looks like a JWT. */
export const TOKEN_PATTERN = /eyJ[A-Za-z0-9_-]{20,}/;
