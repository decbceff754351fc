// The service: an Express app that accepts SPIFFE JWT-SVIDs addressed to it, verified with the
// trust bundles the SPIFFE Workload API (a SPIRE agent) streams to it.
import { errorResponse, isWimseError } from '@wimse-auth/core';
import { wimse } from '@wimse-auth/express';
import { WorkloadApiBundleSource } from '@wimse-auth/workload-api';
import express from 'express';

/**
 * Connects to the Workload API named by SPIFFE_ENDPOINT_SOCKET and waits (bounded) for the
 * first bundles, so the service never starts answering 503 "trust unavailable".
 */
export async function connectTrust() {
  const trust = new WorkloadApiBundleSource({
    // Bundle changes and stream trouble are logged; the agent restarting is only an event.
    onEvent: ({ name, attributes }) => {
      const td = attributes['wimse.trust_domain'];
      if (name === 'bundle.updated') console.log(`[trust] ${td} bundle ${attributes['wimse.bundle_change']}`);
      else console.log(`[trust] ${name}: ${attributes['error.type']}${td ? ` (${td})` : ''}`);
    },
  });
  await trust.waitForReady(Number(process.env.WORKLOAD_API_READY_TIMEOUT_MS ?? 10_000));
  return trust;
}

export function createApp({ trust, audience }) {
  // passError: our error handler logs why a request was refused, then answers as wimse() would.
  const authenticate = wimse({ trust, audience: { values: [audience] }, passError: true });
  const app = express();
  app.use(authenticate);
  app.get('/', (req, res) => {
    res.json({ caller: req.wimse.id, credential: req.wimse.credential });
  });
  app.use((error, req, res, next) => {
    if (!isWimseError(error)) return next(error);
    // The code is safe to log; the request's headers (the token) are not.
    console.log(`[server] ${req.method} ${req.path} refused: ${error.status} ${error.code}`);
    const { status, headers, body } = errorResponse(error, { accept: authenticate.authenticator.accept });
    res.status(status).set(headers).json(body);
  });
  return app;
}
