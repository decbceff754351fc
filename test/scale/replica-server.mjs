// One replica of a service, as a separate Node process: Express + @wimse-auth/express with the
// Redis replay store, loaded from the BUILT packages by name. Configured through the environment:
//   WIMSE_BUNDLE      path of the SPIFFE bundle of example.org
//   WIMSE_REDIS_URL   the Redis all replicas share
//   WIMSE_REDIS_CLIENT  'ioredis' (default) or 'node-redis'
//   WIMSE_ORIGIN      the origin callers address
// Prints one JSON line `{"port":<n>}` once listening on 127.0.0.1 (ephemeral port).
import { FileBundleSource } from '@wimse-auth/core';
import { wimse } from '@wimse-auth/express';
import { redisReplayStore } from '@wimse-auth/redis';
import express from 'express';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const { WIMSE_BUNDLE, WIMSE_REDIS_URL, WIMSE_ORIGIN } = process.env;
const kind = process.env.WIMSE_REDIS_CLIENT ?? 'ioredis';
if (!WIMSE_BUNDLE || !WIMSE_REDIS_URL || !WIMSE_ORIGIN) throw new Error('missing environment');

let client;
if (kind === 'node-redis') {
  client = createClient({
    url: WIMSE_REDIS_URL,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) },
  });
  client.on('error', () => {}); // node-redis crashes the process on an unhandled 'error' event
  await client.connect();
} else {
  client = new Redis(WIMSE_REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  client.on('error', () => {});
  await client.connect();
}

const trust = new FileBundleSource({ files: [{ trustDomain: 'example.org', path: WIMSE_BUNDLE }] });
const app = express();
app.use(
  wimse({
    trust,
    audience: { origins: [WIMSE_ORIGIN] },
    replayStore: redisReplayStore({ client, keyPrefix: 'scale:orders:', timeoutMs: 250 }),
  }),
);
app.get('/orders', (req, res) => res.json({ caller: req.wimse?.id, pid: process.pid }));

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

const shutdown = () => {
  server.closeAllConnections();
  server.close();
  void trust.close();
  if (kind === 'node-redis') client.destroy();
  else client.disconnect();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
