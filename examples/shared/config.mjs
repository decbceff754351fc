// The examples' configuration, from environment variables (documented in each example's README). The same
// code runs against a real trust domain: point WIMSE_BUNDLE_FILE at the bundle your SPIRE agent
// (or spiffe-helper, or a mounted ConfigMap) keeps up to date.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBundleSource } from '@wimse-auth/core';

const list = (value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export async function loadConfig(defaults, env = process.env) {
  const trustDomain = env.WIMSE_TRUST_DOMAIN || 'example.org';
  let bundleFile = env.WIMSE_BUNDLE_FILE;
  let localTrustDomain;
  if (!bundleFile) {
    // No trust domain configured: make a throwaway one in memory and write its bundle to a
    // file, so the service loads it exactly as it would load a real one. Imported lazily, so
    // production needs no test package.
    const { createTestTrustDomain } = await import('@wimse-auth/testing');
    localTrustDomain = createTestTrustDomain(trustDomain);
    const directory = mkdtempSync(join(tmpdir(), 'wimse-example-'));
    process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
    bundleFile = join(directory, 'bundle.json');
    writeFileSync(bundleFile, JSON.stringify(localTrustDomain.bundle));
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: Number(env.PORT ?? defaults.port),
    trustDomain,
    bundleFile,
    // Set only when the trust domain is the local one: its issuer keys let run.mjs mint
    // credentials for a calling workload. A real trust domain's workloads bring their own.
    localTrustDomain,
    trust: new FileBundleSource({
      files: [{ trustDomain, path: bundleFile }],
      onError: (error, path) => console.error(`[server] cannot load bundle ${path}: ${error.message}`),
    }),
    audience: {
      // WIT + WPT: proofs name one of these origins plus the request path.
      origins: list(env.WIMSE_AUDIENCE_ORIGINS ?? defaults.audienceOrigins),
      // JWT-SVIDs: the audience their issuer was asked for (the service's SPIFFE ID, say).
      values: list(env.WIMSE_JWT_SVID_AUDIENCE ?? defaults.jwtSvidAudience),
    },
  };
}

export function describeTrust(config) {
  return config.localTrustDomain
    ? `local trust domain ${config.trustDomain} (in memory, for this run only; set WIMSE_BUNDLE_FILE for a real one)`
    : `trust domain ${config.trustDomain} from ${config.bundleFile}`;
}
