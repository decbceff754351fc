// The service behind the proxy: accepts a SPIFFE JWT-SVID whose audience is this service's
// SPIFFE ID (WIMSE_JWT_SVID_AUDIENCE), like go-spiffe's "JWT-SVID behind a proxy" example.
import { errorResponse, isWimseError } from '@wimse-auth/core';
import { wimse } from '@wimse-auth/express';
import express from 'express';

export function createApp({ trust, audience }) {
  // passError: our own error handler logs why a request was refused, then answers as wimse() would.
  const authenticate = wimse({ trust, audience, passError: true });

  const app = express();
  // For req.ip and req.protocol only. wimse() never reads Host or X-Forwarded-*, whatever this
  // says: the accepted audiences are exactly the configured ones.
  app.set('trust proxy', 'loopback');
  app.use(authenticate);
  app.get('/', (req, res) => {
    res.json({ caller: req.wimse.id, credential: req.wimse.credential, via: req.protocol });
  });
  app.use((error, req, res, next) => {
    if (!isWimseError(error)) return next(error);
    // The code is safe to log; the request's headers (the token) are not.
    console.log(`[server] ${req.method} ${req.path} from ${req.ip} refused: ${error.status} ${error.code}`);
    const { status, headers, body } = errorResponse(error, { accept: authenticate.authenticator.accept });
    res.status(status).set(headers).json(body);
  });
  return app;
}
