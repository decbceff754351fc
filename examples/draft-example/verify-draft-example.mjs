// Verifies the WIMSE drafts' own example request (a WIT + WPT with a bound access token)
// with @wimse-auth/core, using the draft's published keys and the moment it was valid,
// then shows that replaying the same proof is refused.
import { readFileSync } from 'node:fs';
import { createAuthenticator, isWimseError, StaticBundleSource } from '@wimse-auth/core';

const example = JSON.parse(readFileSync(new URL('./draft-example.json', import.meta.url), 'utf8'));

const authenticator = createAuthenticator({
  trust: StaticBundleSource.fromJwks(example.trustDomain, example.jwks),
  audience: { origins: [example.origin] },
  // The example's tokens expired in 2025; pin the clock to when they were valid.
  clock: () => new Date(example.validAt * 1000),
});

const principal = await authenticator.authenticate(example.request);
console.log('authenticated workload:', principal.id);
console.log('  trust domain:', principal.trustDomain);
console.log('  credential:  ', `${principal.credential} (${principal.credentialForm})`);
console.log('  WIT expires: ', principal.expiresAt.toISOString());
console.log('  proof jti:   ', principal.wit.proof.jti);
console.log('  bound access token present:', principal.accessToken !== undefined);

try {
  await authenticator.authenticate(example.request);
  console.error('replayed proof was accepted — this must never happen');
  process.exitCode = 1;
} catch (error) {
  if (!isWimseError(error)) throw error;
  console.log(`replayed proof refused: ${error.status} ${error.code} — ${error.message}`);
}
