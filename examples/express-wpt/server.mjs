// The orders API: every request must come from a workload of the trusted trust domain, proven
// with a WIT + WPT (or a JWT-SVID addressed to WIMSE_JWT_SVID_AUDIENCE).
import { errorResponse, isWimseError } from '@wimse-auth/core';
import { wimse } from '@wimse-auth/express';
import express from 'express';

export function createApp({ trust, audience }) {
  // passError: our own error handler logs why a request was refused, then answers as wimse() would.
  const authenticate = wimse({ trust, audience, passError: true });

  const app = express();
  app.use(authenticate);
  app.get('/orders', (req, res) => {
    res.json({ caller: req.wimse.id, credential: req.wimse.credential });
  });
  app.use((error, req, res, next) => {
    if (!isWimseError(error)) return next(error);
    // The code and message are safe to log; the request's headers (the tokens) are not.
    console.log(`[server] ${req.method} ${req.path} refused: ${error.status} ${error.code}`);
    const { status, headers, body } = errorResponse(error, { accept: authenticate.authenticator.accept });
    res.status(status).set(headers).json(body);
  });
  return app;
}
