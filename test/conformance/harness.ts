// Runs conformance cases over real HTTP against an adapter set-up listening on 127.0.0.1.

import type { Server } from 'node:http';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BundleSource, IssuerPolicy } from '@wimse-auth/core';
import type { TestTrustDomain } from '../support/trust-domain.js';
import { ISSUER } from '../support/trust-domain.js';
import { ADMIN_ID, BROKEN_TRUST_DOMAIN, ORIGIN } from './cases.js';

/** What every conformance server is configured with. */
export interface ServerConfig {
  readonly trust: BundleSource;
  readonly audience: { origins: string[] };
  readonly issuers: IssuerPolicy;
  /** The one workload `/admin` admits. */
  readonly adminId: string;
  /** Headers whose tokens proofs must bind with `oth` (none unless a suite sets them). */
  readonly otherTokenHeaders?: readonly string[];
  /**
   * Receives every line the set-up's logging would write (error handlers, Koa's `error`
   * event, Nest's Logger), so suites can assert no token material is ever logged.
   */
  readonly log?: (line: string) => void;
}

/** How an adapter renders failures of a given status: a problem+json body, or a body we only check is safe. */
export type BodyFormat = 'problem' | 'opaque';

/**
 * One adapter set-up. `start` must serve, on a fresh HTTP server:
 * /orders (authentication required), /optional (credentials optional), /admin
 * (authentication + requireWorkload(adminId)), for every method; each success answers
 * `{ "principal": { id, trustDomain, credential, credentialForm } | null }`.
 */
export interface AdapterSetup {
  readonly name: string;
  bodyFormat(status: number): BodyFormat;
  start(config: ServerConfig): Promise<Server>;
}

export function serverConfig(td: TestTrustDomain): ServerConfig {
  const trust: BundleSource = {
    getBundle: (trustDomain) => {
      if (trustDomain.name === BROKEN_TRUST_DOMAIN) throw new Error('bundle endpoint unreachable');
      return td.trust.getBundle(trustDomain);
    },
  };
  return { trust, audience: { origins: [ORIGIN] }, issuers: { 'example.org': [ISSUER] }, adminId: ADMIN_ID };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a GET with raw header fields (an array value becomes several field lines). */
export function send(
  server: Server,
  path: string,
  headers: Record<string, string | string[]>,
): Promise<HttpResult> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function listen(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
