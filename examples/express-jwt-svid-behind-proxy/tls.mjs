// The proxy's TLS certificate: TLS_CERT_FILE + TLS_KEY_FILE when set, otherwise a self-signed
// one for localhost / 127.0.0.1, made with the openssl CLI at start-up so no private key is ever
// committed. It lives in a temporary directory removed on exit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function loadOrCreateCertificate(env = process.env) {
  if (env.TLS_CERT_FILE && env.TLS_KEY_FILE) {
    return { cert: readFileSync(env.TLS_CERT_FILE), key: readFileSync(env.TLS_KEY_FILE), selfSigned: false };
  }
  const directory = mkdtempSync(join(tmpdir(), 'wimse-example-tls-'));
  process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
  const certFile = join(directory, 'cert.pem');
  const keyFile = join(directory, 'key.pem');
  try {
    // The client checks the name it connects to against subjectAltName, so list both.
    execFileSync(
      'openssl',
      [
        ['req', '-x509', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
        ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ['-keyout', keyFile, '-out', certFile],
      ].flat(),
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error(
      'cannot create a TLS certificate: install openssl, or set TLS_CERT_FILE and TLS_KEY_FILE',
      {
        cause: error,
      },
    );
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), selfSigned: true };
}
