import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AuthenticationError,
  createAuthenticator,
  GRPC_STATUS,
  type GrpcMetadataLike,
  grpcAudience,
  grpcAuthorityOrigin,
  grpcCallOf,
  grpcErrorStatus,
  grpcMethodAudience,
  grpcPrincipalOf,
  grpcRequest,
  parseGrpcMethodPath,
  setGrpcPrincipal,
  TrustUnavailableError,
  type WorkloadPrincipal,
} from '../src/index.js';
import { CALLER, createWorld, NOW } from './support/world.js';

const world = createWorld();
const METHOD = '/echo.Echo/UnaryEcho';
const AUTHORITY = 'echo.example.org';

/** grpc-js's Metadata, structurally: keys map to every value in arrival order. */
class FakeMetadata implements GrpcMetadataLike {
  readonly #entries = new Map<string, Array<string | Uint8Array>>();
  constructor(pairs: ReadonlyArray<readonly [string, string | Uint8Array]> = []) {
    for (const [key, value] of pairs) this.add(key, value);
  }
  add(key: string, value: string | Uint8Array): void {
    this.#entries.set(key, [...(this.#entries.get(key) ?? []), value]);
  }
  get(key: string): Array<string | Uint8Array> {
    return this.#entries.get(key) ?? [];
  }
  getMap(): Record<string, string | Uint8Array> {
    return Object.fromEntries([...this.#entries].map(([key, values]) => [key, values[0]!]));
  }
}

function authenticator(audience = grpcAudience({ authorities: [AUTHORITY] })) {
  return createAuthenticator({ trust: world.trust, clock: world.clock, audience });
}

function proofMetadata(aud: string, extra: ReadonlyArray<readonly [string, string]> = []): FakeMetadata {
  const wit = world.mintWit();
  return new FakeMetadata([
    ['workload-identity-token', wit],
    ['authorization', `WPT ${world.mintWpt(wit, { aud })}`],
    ...extra,
  ]);
}

describe('gRPC method paths and audiences', () => {
  it('parses /package.Service/Method and refuses anything else', () => {
    expect(parseGrpcMethodPath(METHOD)).toEqual({ service: 'echo.Echo', method: 'UnaryEcho' });
    for (const bad of ['echo.Echo/UnaryEcho', '/echo.Echo', '/a/b/c', '//b', '/a/', '/a b/c', 42]) {
      expect(() => parseGrpcMethodPath(bad as string)).toThrow(TypeError);
    }
  });

  it('normalises authorities like the core normalises origins', () => {
    expect(grpcAuthorityOrigin('Echo.Example.org:443')).toBe('https://echo.example.org');
    expect(grpcAuthorityOrigin('localhost:50051')).toBe('https://localhost:50051');
    expect(grpcMethodAudience('echo.example.org:443', METHOD)).toBe(`https://echo.example.org${METHOD}`);
    for (const bad of ['', 'https://echo.example.org', 'echo/x', 'u@echo', 'a b', 'echo?x']) {
      expect(() => grpcAuthorityOrigin(bad)).toThrow(TypeError);
    }
    expect(() => grpcMethodAudience(AUTHORITY, 'UnaryEcho')).toThrow(TypeError);
  });

  it('validates the audience configuration at startup', () => {
    expect(() => grpcAudience({})).toThrow(/empty/);
    expect(() => grpcAudience(undefined as never)).toThrow(/required/);
    expect(() => grpcAudience({ selfId: 'not an id' })).toThrow();
    expect(() => grpcAudience({ resolve: 'x' as never })).toThrow(/function/);
    expect(grpcAudience({ authorities: ['a.example:443'], selfId: 'spiffe://example.org/echo' })).toEqual({
      origins: ['https://a.example'],
      values: ['spiffe://example.org/echo'],
    });
  });
});

describe('authenticating gRPC metadata with the core authenticator', () => {
  it('accepts a proof for https://<authority>/<package.Service>/<Method>', async () => {
    const principal = await authenticator().authenticate(
      grpcRequest(proofMetadata(`https://${AUTHORITY}${METHOD}`), METHOD),
    );
    expect(principal).toMatchObject({ id: CALLER, credential: 'wpt', credentialForm: 'wpt-authorization' });
  });

  it('accepts any of several authorities, and refuses another method or authority', async () => {
    const auth = authenticator(grpcAudience({ authorities: [AUTHORITY, 'echo.internal:8443'] }));
    await expect(
      auth.authenticate(grpcRequest(proofMetadata(`https://echo.internal:8443${METHOD}`), METHOD)),
    ).resolves.toMatchObject({ id: CALLER });
    await expect(
      auth.authenticate(grpcRequest(proofMetadata(`https://${AUTHORITY}/echo.Echo/Other`), METHOD)),
    ).rejects.toMatchObject({ code: 'audience_mismatch' });
    await expect(
      auth.authenticate(grpcRequest(proofMetadata(`https://other.example${METHOD}`), METHOD)),
    ).rejects.toMatchObject({ code: 'audience_mismatch' });
  });

  it('accepts the server SPIFFE ID, exact values and resolved audiences', async () => {
    const seen: string[] = [];
    const auth = authenticator(
      grpcAudience({
        selfId: 'spiffe://example.org/echo',
        values: ['urn:echo'],
        resolve: (call) => {
          seen.push(`${call.service} ${call.method} ${call.path}`);
          return call.method === 'UnaryEcho' ? 'urn:unary' : undefined;
        },
      }),
    );
    for (const aud of ['spiffe://example.org/echo', 'urn:echo', 'urn:unary']) {
      await expect(auth.authenticate(grpcRequest(proofMetadata(aud), METHOD))).resolves.toMatchObject({
        id: CALLER,
      });
    }
    expect(seen).toContain(`echo.Echo UnaryEcho ${METHOD}`);
    await expect(
      auth.authenticate(grpcRequest(proofMetadata('urn:unary'), '/echo.Echo/Stream')),
    ).rejects.toMatchObject({ code: 'audience_mismatch' });
  });

  it('resolves no extra audience for plain HTTP requests', () => {
    const audience = grpcAudience({ resolve: () => 'urn:x' });
    expect(audience.resolve?.({ url: METHOD, headers: {} })).toBeUndefined();
    expect(grpcCallOf({ url: METHOD, headers: {} })).toBeUndefined();
  });

  it('accepts a JWT-SVID addressed to the method or the authority', async () => {
    for (const aud of [`https://${AUTHORITY}${METHOD}`, `https://${AUTHORITY}`]) {
      const metadata = new FakeMetadata([['authorization', `Bearer ${world.mintJwtSvid({ aud: [aud] })}`]]);
      await expect(authenticator().authenticate(grpcRequest(metadata, METHOD))).resolves.toMatchObject({
        credential: 'jwt-svid',
      });
    }
  });

  it('keeps duplicated keys visible, so the core refuses them', async () => {
    const aud = `https://${AUTHORITY}${METHOD}`;
    const twoWits = proofMetadata(aud);
    twoWits.add('workload-identity-token', world.mintWit());
    const twoAuthorizations = proofMetadata(aud);
    twoAuthorizations.add('authorization', `Bearer ${world.mintJwtSvid({ aud: [aud] })}`);
    const bothProofForms = proofMetadata(aud, [['workload-proof-token', 'x.y.z']]);
    // What a grpc-js server sees when a key is sent twice: Node's HTTP/2 joined the fields.
    const wit = world.mintWit();
    const joinedWits = new FakeMetadata([
      ['workload-identity-token', `${wit}, ${wit}`],
      ['authorization', `WPT ${world.mintWpt(wit, { aud })}`],
    ]);
    for (const metadata of [twoWits, twoAuthorizations, bothProofForms, joinedWits]) {
      await expect(authenticator().authenticate(grpcRequest(metadata, METHOD))).rejects.toMatchObject({
        code: 'credentials_malformed',
      });
    }
    await expect(authenticator().authenticate(grpcRequest(new FakeMetadata(), METHOD))).rejects.toMatchObject(
      { code: 'credentials_missing' },
    );
  });

  it('refuses binary values under a text key and ignores -bin keys', async () => {
    const metadata = proofMetadata(`https://${AUTHORITY}${METHOD}`);
    metadata.add('workload-identity-token', new Uint8Array([1]));
    await expect(authenticator().authenticate(grpcRequest(metadata, METHOD))).rejects.toMatchObject({
      code: 'credentials_malformed',
    });
    const request = grpcRequest(new FakeMetadata([['trace-bin', new Uint8Array([1])]]), METHOD);
    expect(Object.keys(request.headers)).toEqual([]);
  });

  it('refuses a malformed method path or metadata object', () => {
    expect(() => grpcRequest(new FakeMetadata(), 'nope')).toThrow(TypeError);
    expect(() => grpcRequest({} as never, METHOD)).toThrow(TypeError);
  });
});

describe('gRPC status mapping', () => {
  it('maps 401, 403 and 503 errors and carries the code in trailers', () => {
    expect(
      grpcErrorStatus(new AuthenticationError('replay_detected', 'this proof was already used')),
    ).toEqual({
      code: GRPC_STATUS.UNAUTHENTICATED,
      details: 'this proof was already used',
      trailers: { 'wimse-error': 'replay_detected' },
    });
    expect(grpcErrorStatus(new AccessDeniedError('no'))).toMatchObject({
      code: 7,
      trailers: { 'wimse-error': 'access_denied' },
    });
    expect(grpcErrorStatus(new TrustUnavailableError('down'))).toMatchObject({
      code: 14,
      trailers: { 'wimse-error': 'trust_unavailable' },
    });
  });
});

describe('gRPC principal registry', () => {
  it('remembers the principal per metadata object', () => {
    const metadata = new FakeMetadata();
    const principal = { id: CALLER, expiresAt: new Date(NOW * 1000) } as unknown as WorkloadPrincipal;
    expect(grpcPrincipalOf(metadata)).toBeUndefined();
    setGrpcPrincipal(metadata, principal);
    expect(grpcPrincipalOf(metadata)).toBe(principal);
    expect(grpcPrincipalOf(new FakeMetadata())).toBeUndefined();
    expect(grpcPrincipalOf(undefined)).toBeUndefined();
  });
});
