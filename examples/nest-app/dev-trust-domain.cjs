// A throwaway "example.org" trust domain for this example, so it runs without SPIRE.
// On first use it writes dev/bundle.json (public keys, what the service trusts) and
// dev/issuer-keys.json (the matching private keys, which only call.mjs uses to mint
// credentials). dev/ is git-ignored: DEMO ONLY, never reuse these keys.
const { generateKeyPairSync } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const DEV_DIR = process.env.WIMSE_DEV_DIR ?? path.join(__dirname, 'dev');
const BUNDLE = path.join(DEV_DIR, 'bundle.json');
const ISSUER_KEYS = path.join(DEV_DIR, 'issuer-keys.json');

function generate() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pub: publicKey.export({ format: 'jwk' }), priv: privateKey.export({ format: 'jwk' }) };
}

/** Creates the dev trust domain once; returns the paths of its files. */
function ensureDevTrustDomain() {
  if (!existsSync(BUNDLE) || !existsSync(ISSUER_KEYS)) {
    mkdirSync(DEV_DIR, { recursive: true });
    const wit = generate();
    const jwt = generate();
    writeFileSync(
      ISSUER_KEYS,
      `${JSON.stringify({ wit: { ...wit.priv, kid: 'wit-1' }, jwtSvid: { ...jwt.priv, kid: 'jwt-1' } }, null, 2)}\n`,
      { mode: 0o600 },
    );
    const keys = [
      { ...wit.pub, kid: 'wit-1', use: 'wit-svid' },
      { ...jwt.pub, kid: 'jwt-1', use: 'jwt-svid' },
    ];
    writeFileSync(BUNDLE, `${JSON.stringify({ keys }, null, 2)}\n`);
  }
  return { bundle: BUNDLE, issuerKeys: ISSUER_KEYS };
}

/** The issuer private keys (JWK), for call.mjs. */
function issuerKeys() {
  return JSON.parse(readFileSync(ensureDevTrustDomain().issuerKeys, 'utf8'));
}

module.exports = { ensureDevTrustDomain, issuerKeys };
