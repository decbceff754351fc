// An Express API authenticated with Passport: the 'wimse' strategy verifies the calling
// workload, and `verify` maps it to one of this app's users. A workload the app does not know
// gets 401, however valid its credential.
import { WimseStrategy } from '@wimse-auth/passport';
import express from 'express';
import passport from 'passport';

export function createApp({ trust, trustDomain, audience }) {
  // Which workloads this app knows, by SPIFFE ID. In a real app: a table, a config file.
  const usersByWorkload = new Map([
    [`spiffe://${trustDomain}/ns/prod/sa/billing`, { name: 'billing', roles: ['orders:read'] }],
    [`spiffe://${trustDomain}/ns/prod/sa/admin`, { name: 'admin', roles: ['orders:read', 'orders:write'] }],
  ]);

  passport.use(
    // Return form of `verify` (one parameter): a user, or undefined to refuse with 401.
    new WimseStrategy({ trust, audience }, async (workload) => usersByWorkload.get(workload.id)),
  );

  const app = express();
  // session: false — a workload credential authenticates one request; there is no login.
  app.get('/me', passport.authenticate('wimse', { session: false }), (req, res) => {
    res.json({ user: req.user, workload: req.wimse.id });
  });
  return app;
}
