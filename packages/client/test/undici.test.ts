import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../../testing/src/index.js';
import { jwtSvidInterceptor, wimseInterceptor } from '../src/index.js';
import { type ServerReply, startServer, type TestServer } from './support/server.js';

const td = createTestTrustDomain('example.org');
const CALLER = td.spiffeId('/ns/prod/sa/billing');
let server: TestServer;
const agent = new Agent();

beforeAll(async () => {
  server = await startServer({ trust: td.bundleSource });
});
afterAll(async () => {
  await server.close();
  await agent.close();
});

function caller() {
  const issued = td.issueWit({ sub: CALLER });
  return { wit: issued.token, privateKey: issued.workloadKey.privateKey };
}

describe('undici interceptors', () => {
  it('wimseInterceptor authenticates in both transports', async () => {
    for (const transport of ['wpt-authorization', 'wpt-header'] as const) {
      const dispatcher = agent.compose(wimseInterceptor({ ...caller(), transport }));
      const response = await request(`${server.origin}/v1/orders?x=1`, { dispatcher });
      expect(response.statusCode).toBe(200);
      expect((await response.body.json()) as ServerReply).toMatchObject({
        id: CALLER,
        credentialForm: transport,
      });
    }
  });

  it('binds a Bearer access token given as undici headers (array form too)', async () => {
    const dispatcher = agent.compose(wimseInterceptor({ ...caller(), transport: 'wpt-header' }));
    const response = await request(`${server.origin}/at`, {
      dispatcher,
      method: 'POST',
      body: 'x',
      headers: ['Authorization', 'Bearer access-1', 'x-other', 'y'],
    });
    expect(((await response.body.json()) as ServerReply).accessToken).toBe('access-1');
  });

  it('fails the request (nothing sent) when signing is impossible', async () => {
    const before = server.received.length;
    const dispatcher = agent.compose(wimseInterceptor(caller()));
    await expect(
      request(`${server.origin}/x`, { dispatcher, headers: { authorization: 'Bearer a' } }),
    ).rejects.toThrow(/wpt-header/);
    expect(server.received.length).toBe(before);
  });

  it('jwtSvidInterceptor sends the JWT-SVID', async () => {
    const dispatcher = agent.compose(
      jwtSvidInterceptor({ token: async () => td.issueJwtSvid({ sub: CALLER, aud: server.origin }) }),
    );
    const response = await request(`${server.origin}/svid`, { dispatcher });
    expect((await response.body.json()) as ServerReply).toMatchObject({ id: CALLER, credential: 'jwt-svid' });
  });
});
