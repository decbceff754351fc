// The three places a token sits in a request. A token-level attack is generated once per
// place it applies to, with everything else in the request valid, so the answer can only
// come from the check under test.
import type { TestKey } from '../../support/tokens.js';
import type { Exchange } from '../case.js';
import type { Claims, Header, Kit } from '../kit.js';
import type { HeaderField } from '../raw-http.js';

export type PositionName = 'svid' | 'wit' | 'wpt';

/** Mints tokens for one position; `sign` overrides the defaults like the kit does. */
export interface Minter {
  readonly position: PositionName;
  /** The key the verifier will check this token with. */
  readonly key: TestKey;
  sign(header?: Header, claims?: Claims, key?: TestKey | Buffer): string;
  /** The default header and claims of this position, decoded from a freshly signed token. */
  parts(): { header: Header; claims: Claims };
  /** The request carrying `token` in this position (the other tokens valid and bound). */
  exchange(token: string): Exchange;
}

function decode(token: string): { header: Header; claims: Claims } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Header,
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims,
  };
}

const request = (headers: HeaderField[]): Exchange => ({
  requests: [{ method: 'GET', path: '/orders', headers }],
});

export function minter(kit: Kit, position: PositionName): Minter {
  switch (position) {
    case 'svid':
      return {
        position,
        key: kit.keys.jwt,
        sign: (header, claims, key) => kit.svid(claims, header, key),
        parts: () => decode(kit.svid()),
        exchange: (token) => request([['authorization', `Bearer ${token}`]]),
      };
    case 'wit':
      return {
        position,
        key: kit.keys.wit,
        sign: (header, claims, key) => kit.wit(claims, header, key),
        parts: () => decode(kit.wit()),
        // The proof is valid for whatever WIT bytes are sent, so only the WIT can fail.
        exchange: (token) =>
          request([
            ['workload-identity-token', token],
            ['authorization', `WPT ${kit.wpt(token, '/orders')}`],
          ]),
      };
    case 'wpt': {
      const wit = kit.wit();
      return {
        position,
        key: kit.keys.workload,
        sign: (header, claims, key) => kit.wpt(wit, '/orders', claims, header, key),
        parts: () => decode(kit.wpt(wit, '/orders')),
        exchange: (token) =>
          request([
            ['workload-identity-token', wit],
            ['authorization', `WPT ${token}`],
          ]),
      };
    }
  }
}
