import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../../testing/src/index.js';
import { createWptSigner, type FetchFunction, jwtSvidFetch, wimseFetch } from '../src/index.js';
import { type ServerReply, startServer, type TestServer } from './support/server.js';

const td = createTestTrustDomain('example.org');
const CALLER = td.spiffeId('/ns/prod/sa/billing');
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ trust: td.bundleSource, otherTokenHeaders: ['x-context-token'] });
});
afterAll(async () => {
  await server.close();
});

async function reply(response: Response): Promise<ServerReply & { status: number }> {
  return { status: response.status, ...((await response.json()) as ServerReply) };
}

function caller() {
  const issued = td.issueWit({ sub: CALLER });
  return { wit: issued.token, privateKey: issued.workloadKey.privateKey };
}

/** Wraps the global fetch and remembers the headers of the last request sent. */
function recordingFetch(): { fetch: FetchFunction; last: () => Headers } {
  let last: Headers | undefined;
  return {
    fetch: (input, init) => {
      const request = new Request(input, init);
      last = new Headers(request.headers);
      return fetch(request);
    },
    last: () => last!,
  };
}

describe('wimseFetch', () => {
  it('authenticates with Authorization: WPT (default transport)', async () => {
    const recorder = recordingFetch();
    const wfetch = wimseFetch({ ...caller(), fetch: recorder.fetch });
    const result = await reply(await wfetch(`${server.origin}/v1/orders?page=2#top`));
    expect(result).toMatchObject({
      status: 200,
      id: CALLER,
      credential: 'wpt',
      credentialForm: 'wpt-authorization',
    });
    expect(recorder.last().get('authorization')).toMatch(/^WPT [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(recorder.last().has('workload-proof-token')).toBe(false);
  });

  it('authenticates with Workload-Proof-Token (wpt-header transport)', async () => {
    const recorder = recordingFetch();
    const wfetch = wimseFetch({ ...caller(), transport: 'wpt-header', fetch: recorder.fetch });
    const result = await reply(await wfetch(`${server.origin}/v1/orders`, { method: 'POST', body: '{}' }));
    expect(result).toMatchObject({ status: 200, id: CALLER, credentialForm: 'wpt-header' });
    expect(recorder.last().has('authorization')).toBe(false);
  });

  it('signs a fresh proof per request; the same proof re-sent by hand is a replay', async () => {
    const recorder = recordingFetch();
    const wfetch = wimseFetch({ ...caller(), fetch: recorder.fetch });
    expect((await wfetch(`${server.origin}/a`)).status).toBe(200);
    const first = recorder.last();
    expect((await wfetch(`${server.origin}/a`)).status).toBe(200);
    expect(recorder.last().get('authorization')).not.toBe(first.get('authorization'));
    const replayed = await reply(await fetch(`${server.origin}/a`, { headers: first }));
    expect(replayed).toMatchObject({ status: 401, code: 'replay_detected' });
  });

  it('binds an existing Bearer access token with ath in wpt-header mode', async () => {
    const wfetch = wimseFetch({ ...caller(), transport: 'wpt-header' });
    const result = await reply(
      await wfetch(`${server.origin}/v1/orders`, { headers: { Authorization: 'Bearer access-token-123' } }),
    );
    expect(result).toMatchObject({ status: 200, id: CALLER, credentialForm: 'wpt-header' });
    expect(result.accessToken).toBe('access-token-123');

    // A proof bound to one access token does not cover another (checked before replay).
    const recorder = recordingFetch();
    const bound = wimseFetch({ ...caller(), transport: 'wpt-header', fetch: recorder.fetch });
    await bound(`${server.origin}/x`, { headers: { authorization: 'Bearer token-one' } });
    const headers = recorder.last();
    headers.set('authorization', 'Bearer token-two');
    expect(await reply(await fetch(`${server.origin}/x`, { headers }))).toMatchObject({
      status: 401,
      code: 'token_binding_mismatch',
    });
  });

  it('refuses to overwrite an Authorization header in wpt-authorization mode, before sending', async () => {
    const before = server.received.length;
    const wfetch = wimseFetch(caller());
    await expect(
      wfetch(`${server.origin}/x`, { headers: { authorization: 'Bearer something' } }),
    ).rejects.toThrow(/wpt-header/);
    expect(server.received.length).toBe(before);
  });

  it('binds Txn-Token (tth) and listed headers (oth)', async () => {
    const wfetch = wimseFetch({ ...caller(), bindHeaders: ['X-Context-Token'] });
    const ok = await wfetch(`${server.origin}/txn`, {
      headers: { 'txn-token': 'txn.token.value', 'x-context-token': '  abc.def.ghi ' },
    });
    expect(ok.status).toBe(200);
    // Without binding the listed header, the service refuses the request.
    const unbound = wimseFetch(caller());
    expect(
      await reply(await unbound(`${server.origin}/txn`, { headers: { 'x-context-token': 'abc.def.ghi' } })),
    ).toMatchObject({ status: 401, code: 'token_binding_mismatch' });
  });

  it('a wrong audience override fails with audience_mismatch', async () => {
    const wfetch = wimseFetch({ ...caller(), audience: () => 'https://elsewhere.example.org/v1/orders' });
    expect(await reply(await wfetch(`${server.origin}/v1/orders`))).toMatchObject({
      status: 401,
      code: 'audience_mismatch',
    });
  });

  it('an audience override the service accepts works', async () => {
    const alias = await startServer({
      trust: td.bundleSource,
      audience: { values: [CALLER.replace('billing', 'orders')] },
    });
    try {
      const wfetch = wimseFetch({ ...caller(), audience: () => CALLER.replace('billing', 'orders') });
      expect((await wfetch(`${alias.origin}/anything`)).status).toBe(200);
    } finally {
      await alias.close();
    }
  });

  it('takes the WIT from a provider on every request', async () => {
    const key = td.generateWorkloadKey('EdDSA');
    let calls = 0;
    const wfetch = wimseFetch({
      wit: async () => {
        calls += 1;
        return td.issueWit({ sub: CALLER, key }).token;
      },
      privateKey: key.privateKey,
    });
    expect((await wfetch(`${server.origin}/p`)).status).toBe(200);
    expect((await wfetch(`${server.origin}/p`)).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('accepts a ready signer and a Request input', async () => {
    const signer = createWptSigner(caller());
    const wfetch = wimseFetch({ signer, transport: 'wpt-header' });
    const response = await wfetch(new Request(`${server.origin}/req`, { method: 'PUT', body: 'x' }));
    expect(response.status).toBe(200);
  });
});

describe('jwtSvidFetch', () => {
  it('sends Authorization: Bearer <JWT-SVID>', async () => {
    const sfetch = jwtSvidFetch({ token: async () => td.issueJwtSvid({ sub: CALLER, aud: server.origin }) });
    expect(await reply(await sfetch(`${server.origin}/svid`))).toMatchObject({
      status: 200,
      id: CALLER,
      credential: 'jwt-svid',
    });
    await expect(sfetch(`${server.origin}/svid`, { headers: { authorization: 'x' } })).rejects.toThrow(
      TypeError,
    );
  });

  it('a JWT-SVID for another audience is refused', async () => {
    const sfetch = jwtSvidFetch({
      token: td.issueJwtSvid({ sub: CALLER, aud: 'spiffe://example.org/other' }),
    });
    expect(await reply(await sfetch(`${server.origin}/svid`))).toMatchObject({
      status: 401,
      code: 'audience_mismatch',
    });
  });
});
