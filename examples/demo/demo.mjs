// `npm run demo`: a local trust domain, an Express API and a Koa API protected by wimse-auth,
// and a calling workload making a table of calls. Exits non-zero if any outcome differs from
// the expected one. No services needed; everything listens on 127.0.0.1.
import { once } from 'node:events';
import { createServer } from 'node:http';
import Router from '@koa/router';
import { createWptSigner, jwtSvidFetch, wimseFetch } from '@wimse-auth/client';
import { isWimseError, problemDetails } from '@wimse-auth/core';
import { requireWorkload as expressRequireWorkload, wimse as expressWimse } from '@wimse-auth/express';
import { requireWorkload as koaRequireWorkload, wimse as koaWimse } from '@wimse-auth/koa';
import { createTestTrustDomain } from '@wimse-auth/testing';
import express from 'express';
import Koa from 'koa';

// The services' external names: what callers put in a proof's audience. The services only
// listen on loopback here, as they would behind a TLS-terminating proxy.
const ORDERS = 'https://orders.example.org';
const INVENTORY = 'https://inventory.example.org';

const trustDomain = createTestTrustDomain('example.org');
const stranger = createTestTrustDomain('evil.example'); // a trust domain nobody trusts
const trust = trustDomain.bundleSource;

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
}

// Express API: any workload of the trust domain may read orders; only the admin may delete.
const ordersApp = express();
ordersApp.use(expressWimse({ trust, audience: { origins: [ORDERS] } }));
ordersApp.get('/orders', (req, res) => res.json({ caller: req.wimse.id }));
ordersApp.get('/admin', expressRequireWorkload('spiffe://example.org/ns/prod/sa/admin'), (req, res) =>
  res.json({ caller: req.wimse.id }),
);

// Koa API with @koa/router, rendering failures as problem+json in its own error middleware.
const inventory = new Router();
inventory.get('/inventory', koaRequireWorkload('spiffe://example.org/ns/prod/sa/*'), (ctx) => {
  ctx.body = { caller: ctx.state.wimse.id };
});
const inventoryApp = new Koa();
inventoryApp.silent = true;
inventoryApp.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    if (!isWimseError(error)) throw error;
    ctx.set(error.headers ?? {});
    ctx.status = error.status;
    ctx.type = 'application/problem+json';
    ctx.body = problemDetails(error);
  }
});
inventoryApp.use(koaWimse({ trust, audience: { origins: [INVENTORY] } }));
inventoryApp.use(inventory.routes());

const ordersUrl = await listen(createServer(ordersApp));
const inventoryUrl = await listen(createServer(inventoryApp.callback()));
const external = (origin) => (url) => `${origin}${url.pathname}`;

// The calling workload: billing, holding a WIT and its key, plus a JWT-SVID for bearer calls.
const billing = trustDomain.issueWit({ sub: '/ns/prod/sa/billing' });
const signer = createWptSigner({ wit: billing.token, privateKey: billing.workloadKey.privateKey });
const asBilling = (origin, transport) => wimseFetch({ signer, transport, audience: external(origin) });
const bearer = (token) => jwtSvidFetch({ token: async () => token });

async function outcome(response) {
  const body = await response.text();
  if (response.ok) return JSON.parse(body).caller;
  const challenge = response.headers.get('www-authenticate') ?? '';
  const fromChallenge =
    /error_description="([a-z_]+)"/.exec(challenge) ?? /error="([a-z_]+)"/.exec(challenge);
  if (fromChallenge) return fromChallenge[1];
  try {
    return JSON.parse(body).code;
  } catch {
    return body;
  }
}

const billingId = 'spiffe://example.org/ns/prod/sa/billing';
const replayed = await signer.sign({ method: 'GET', url: `${ORDERS}/orders` });
const replayHeaders = { 'workload-identity-token': replayed.wit, authorization: `WPT ${replayed.wpt}` };

const calls = [
  {
    call: 'JWT-SVID → Express /orders',
    credential: 'jwt-svid',
    send: () =>
      bearer(trustDomain.issueJwtSvid({ sub: '/ns/prod/sa/billing', aud: ORDERS }))(`${ordersUrl}/orders`),
    expect: [200, billingId],
  },
  {
    call: 'WIT + Authorization: WPT → Express /orders',
    credential: 'wpt-authorization',
    send: () => asBilling(ORDERS, 'wpt-authorization')(`${ordersUrl}/orders`),
    expect: [200, billingId],
  },
  {
    call: 'WIT + Workload-Proof-Token → Koa /inventory',
    credential: 'wpt-header',
    send: () => asBilling(INVENTORY, 'wpt-header')(`${inventoryUrl}/inventory`),
    expect: [200, billingId],
  },
  {
    call: 'same proof, first use → Express /orders',
    credential: 'wpt-authorization',
    send: () => fetch(`${ordersUrl}/orders`, { headers: replayHeaders }),
    expect: [200, billingId],
  },
  {
    call: 'same proof replayed → Express /orders',
    credential: 'wpt-authorization',
    send: () => fetch(`${ordersUrl}/orders`, { headers: replayHeaders }),
    expect: [401, 'replay_detected'],
  },
  {
    call: 'proof for inventory sent to orders',
    credential: 'wpt-authorization',
    send: () => asBilling(INVENTORY, 'wpt-authorization')(`${ordersUrl}/orders`),
    expect: [401, 'audience_mismatch'],
  },
  {
    call: 'JWT-SVID from an untrusted trust domain',
    credential: 'jwt-svid',
    send: () =>
      bearer(stranger.issueJwtSvid({ sub: '/ns/prod/sa/billing', aud: ORDERS }))(`${ordersUrl}/orders`),
    expect: [401, 'untrusted_trust_domain'],
  },
  {
    call: 'billing → Express /admin (admin only)',
    credential: 'wpt-authorization',
    send: () => asBilling(ORDERS, 'wpt-authorization')(`${ordersUrl}/admin`),
    expect: [403, 'access_denied'],
  },
  {
    call: 'no credentials → Koa /inventory',
    credential: '—',
    send: () => fetch(`${inventoryUrl}/inventory`),
    expect: [401, 'credentials_missing'],
  },
];

let failures = 0;
console.log('wimse-auth demo: local trust domain example.org, Express API (orders), Koa API (inventory)\n');
console.log(`${'call'.padEnd(46)}${'credential'.padEnd(19)}status  result`);
for (const { call, credential, send, expect } of calls) {
  const response = await send();
  const result = await outcome(response);
  const ok = response.status === expect[0] && result === expect[1];
  if (!ok) failures++;
  const verdict = ok ? '' : `   ✗ expected ${expect[0]} ${expect[1]}`;
  console.log(
    `${call.padEnd(46)}${credential.padEnd(19)}${String(response.status).padEnd(8)}${result}${verdict}`,
  );
}
console.log(
  failures === 0 ? '\nall outcomes as expected' : `\n${failures} outcome(s) differ from the expected ones`,
);
process.exit(failures === 0 ? 0 : 1);
