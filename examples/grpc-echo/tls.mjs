// The server's TLS certificate: TLS_CERT_FILE/TLS_KEY_FILE, or a throw-away self-signed one for
// localhost made with openssl (this run only).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function loadCertificate(env = process.env) {
  if (env.TLS_CERT_FILE && env.TLS_KEY_FILE) {
    return { cert: readFileSync(env.TLS_CERT_FILE), key: readFileSync(env.TLS_KEY_FILE), generated: false };
  }
  const directory = mkdtempSync(join(tmpdir(), 'wimse-grpc-echo-'));
  try {
    const keyFile = join(directory, 'key.pem');
    const certFile = join(directory, 'cert.pem');
    // biome-ignore format: one openssl option per line pair reads better
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore', timeout: 20_000 });
    return { cert: readFileSync(certFile), key: readFileSync(keyFile), generated: true };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
