// bundleSet: routing by trust domain across sources (a remote one over real HTTPS among
// them), untrusted_trust_domain for the rest, duplicate routes, close().
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BundleSetMember,
  type BundleSource,
  bundleSet,
  createAuthenticator,
  federatedBundleSource,
  isWimseError,
  JwtBundle,
  StaticBundleSource,
  TrustDomain,
} from '../src/index.js';
import {
  AUDIENCE,
  bearer,
  json,
  jwtSvid,
  ManualClock,
  makeTlsMaterial,
  signingKey,
  spiffeBundle,
  startTrustServer,
  type TlsMaterial,
  TOKEN_NOW,
  type TrustServer,
  trustingTransport,
} from './support/remote-trust-server.js';

// Real servers and TLS on a loaded machine: generous, still bounded.
vi.setConfig({ testTimeout: 20_000 });

const local = signingKey('local-1');
const partner = signingKey('partner-1');
const mapped = signingKey('mapped-1');
const localBundle = JwtBundle.fromSpiffeBundle('example.org', spiffeBundle([local]));

let tls: TlsMaterial;
let server: TrustServer;

beforeAll(async () => {
  tls = await makeTlsMaterial();
  server = await startTrustServer(tls);
  server.route('/partner', json(spiffeBundle([partner])));
}, 30_000);

afterAll(async () => {
  await server?.close();
});

/** A source for one trust domain that counts calls and records whether it was closed. */
function recordingSource(trustDomain: string, bundle: JwtBundle) {
  const calls: string[] = [];
  let closed = false;
  const source: BundleSource & { close(): Promise<void> } = {
    getBundle(td) {
      calls.push(td.name);
      return td.name === trustDomain ? bundle : undefined;
    },
    async close() {
      closed = true;
    },
  };
  return {
    source,
    calls,
    get closed() {
      return closed;
    },
  };
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWimseError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('bundleSet', () => {
  it('routes each trust domain to its source and treats the rest as untrusted', async () => {
    const mappedBundle = JwtBundle.fromSpiffeBundle('mapped.example', spiffeBundle([mapped]));
    const routed = recordingSource('mapped.example', mappedBundle);
    const remote = federatedBundleSource({
      trustDomain: 'partner.example',
      url: `${server.origin}/partner`,
      profile: 'https_web',
      ...trustingTransport(tls),
    });
    await using trust = bundleSet([
      new StaticBundleSource([localBundle]),
      remote,
      { trustDomains: ['spiffe://mapped.example'], source: routed.source },
    ]);
    expect(
      trust
        .trustDomains()
        .map((td) => td.name)
        .sort(),
    ).toEqual(['example.org', 'mapped.example', 'partner.example']);

    const authenticator = createAuthenticator({
      trust,
      audience: { values: [AUDIENCE] },
      accept: ['jwt-svid'],
      clock: () => new Date(TOKEN_NOW * 1000),
    });
    const verify = (key: typeof local, sub: string) => authenticator.authenticate(bearer(jwtSvid(key, sub)));
    expect((await verify(local, 'spiffe://example.org/a')).trustDomain).toBe('example.org');
    expect((await verify(partner, 'spiffe://partner.example/b')).trustDomain).toBe('partner.example');
    expect((await verify(mapped, 'spiffe://mapped.example/c')).trustDomain).toBe('mapped.example');
    expect(routed.calls.every((name) => name === 'mapped.example')).toBe(true);

    expect(await errorCode(verify(partner, 'spiffe://unknown.example/d'))).toBe('untrusted_trust_domain');
    // A key of one trust domain never vouches for another.
    expect(await errorCode(verify(partner, 'spiffe://example.org/e'))).toBe('unknown_key');
    expect(await trust.getBundle(TrustDomain.parse('unknown.example'))).toBeUndefined();
  });

  it('rejects a trust domain routed twice, and members that name no trust domain', () => {
    const one = recordingSource('example.org', localBundle);
    expect(() =>
      bundleSet([
        new StaticBundleSource([localBundle]),
        { trustDomains: ['example.org'], source: one.source },
      ]),
    ).toThrow(/two sources/);
    // The types refuse it too; JavaScript callers get the runtime check.
    expect(() => bundleSet([one.source as unknown as BundleSetMember])).toThrow(
      /does not name its trust domains/,
    );
    expect(() => bundleSet([{ trustDomains: [], source: one.source }])).toThrow(/routes no trust domain/);
    expect(() => bundleSet([{ trustDomains: ['Not A Domain!'], source: one.source }])).toThrow();
  });

  it('closes every member once, and passes unknown-kid refreshes to the routed source', async () => {
    const a = recordingSource('a.example', JwtBundle.fromSpiffeBundle('a.example', spiffeBundle([local])));
    const b = recordingSource('b.example', JwtBundle.fromSpiffeBundle('b.example', spiffeBundle([local])));
    const clock = new ManualClock();
    const remote = federatedBundleSource({
      trustDomain: 'partner.example',
      url: `${server.origin}/partner`,
      profile: 'https_web',
      ...trustingTransport(tls),
      now: clock.now,
    });
    const trust = bundleSet([
      { trustDomains: ['a.example', 'a2.example'], source: a.source },
      { trustDomains: ['b.example'], source: b.source },
      remote,
    ]);
    await remote.ready;
    const before = server.count('/partner');
    const refreshed = await trust.refreshOnUnknownKey(TrustDomain.parse('partner.example'), 'new-kid');
    expect(refreshed?.getKey('partner-1')).toBeDefined();
    expect(server.count('/partner')).toBe(before + 1);
    // A source without early refresh answers with its current bundle.
    expect((await trust.refreshOnUnknownKey(TrustDomain.parse('a.example'), 'x'))?.trustDomain.name).toBe(
      'a.example',
    );
    expect(await trust.refreshOnUnknownKey(TrustDomain.parse('nobody.example'), 'x')).toBeUndefined();

    await trust.close();
    expect(a.closed).toBe(true);
    expect(b.closed).toBe(true);
    // The remote source stopped: a refresh after close makes no request.
    const afterClose = server.count('/partner');
    await remote.refresh();
    expect(server.count('/partner')).toBe(afterClose);
  });
});
