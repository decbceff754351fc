import { isIPv4, isIPv6 } from 'node:net';

/** The environment variable a Workload API client falls back to (SPIFFE Workload Endpoint §4). */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** Why an endpoint address was refused; stable, safe to log. */
export type EndpointAddressProblem =
  | 'not_configured'
  | 'not_a_uri'
  | 'unsupported_scheme'
  | 'query_not_allowed'
  | 'fragment_not_allowed'
  | 'authority_not_allowed'
  | 'path_not_absolute'
  | 'invalid_path'
  | 'userinfo_not_allowed'
  | 'host_not_an_ip_address'
  | 'port_missing'
  | 'invalid_port'
  | 'path_not_allowed';

/**
 * A Workload API endpoint address that does not follow the SPIFFE Workload Endpoint
 * specification. The message names the problem, never the whole address (it could carry
 * credentials in a userinfo part).
 */
export class InvalidEndpointAddressError extends Error {
  override readonly name = 'InvalidEndpointAddressError';
  readonly code = 'invalid_endpoint_address' as const;
  readonly problem: EndpointAddressProblem;

  constructor(problem: EndpointAddressProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

/** A parsed Workload API endpoint. */
export type EndpointAddress =
  | {
      readonly transport: 'unix';
      /** Absolute file system path of the socket (percent-decoded). */
      readonly path: string;
      /** What `@grpc/grpc-js` dials. */
      readonly grpcTarget: string;
    }
  | {
      readonly transport: 'tcp';
      /** An IPv4 or IPv6 address (without brackets). */
      readonly host: string;
      readonly port: number;
      readonly grpcTarget: string;
    };

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// RFC 3986 pchar (unreserved / pct-encoded / sub-delims / ":" / "@") plus "/" separators.
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const DIGITS = /^[0-9]+$/;

function fail(problem: EndpointAddressProblem, message: string): never {
  throw new InvalidEndpointAddressError(problem, message);
}

function parseUnix(rest: string): EndpointAddress {
  let path = rest;
  if (rest.startsWith('//')) {
    const authorityEnd = rest.indexOf('/', 2);
    const authority = authorityEnd === -1 ? rest.slice(2) : rest.slice(2, authorityEnd);
    if (authority.length > 0) {
      fail('authority_not_allowed', 'a unix endpoint address must not have an authority (use unix:///path)');
    }
    path = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  }
  if (!path.startsWith('/')) {
    fail('path_not_absolute', 'a unix endpoint address needs an absolute socket path (unix:///path)');
  }
  if (!PATH.test(path)) fail('invalid_path', 'the unix socket path has characters a URI cannot contain');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    fail('invalid_path', 'the unix socket path has an invalid percent-encoding');
  }
  if (decoded.includes('\0')) fail('invalid_path', 'the unix socket path contains a NUL character');
  if (decoded.endsWith('/')) fail('invalid_path', 'the unix socket path names a directory');
  return Object.freeze({ transport: 'unix', path: decoded, grpcTarget: `unix:${decoded}` });
}

function parseTcp(rest: string): EndpointAddress {
  if (!rest.startsWith('//')) fail('not_a_uri', 'a tcp endpoint address has the form tcp://IP:port');
  const authorityEnd = rest.indexOf('/', 2);
  if (authorityEnd !== -1) fail('path_not_allowed', 'a tcp endpoint address must not have a path');
  const authority = rest.slice(2);
  if (authority.includes('@')) fail('userinfo_not_allowed', 'a tcp endpoint address must not have userinfo');

  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) fail('host_not_an_ip_address', 'the tcp endpoint host is not an IP address');
    host = authority.slice(1, close);
    if (!isIPv6(host)) fail('host_not_an_ip_address', 'the tcp endpoint host is not an IP address');
    const after = authority.slice(close + 1);
    if (after.length > 0 && !after.startsWith(':')) {
      fail('host_not_an_ip_address', 'the tcp endpoint host is not an IP address');
    }
    portText = after.length > 0 ? after.slice(1) : undefined;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    // DNS names are refused: a name resolving elsewhere would defeat the point of a local endpoint.
    if (!isIPv4(host)) fail('host_not_an_ip_address', 'the tcp endpoint host must be an IP address');
  }
  if (portText === undefined || portText.length === 0) {
    fail('port_missing', 'a tcp endpoint address needs a port (tcp://IP:port)');
  }
  if (!DIGITS.test(portText)) fail('invalid_port', 'the tcp endpoint port is not a number');
  const port = Number(portText);
  if (port < 1 || port > 65535) fail('invalid_port', 'the tcp endpoint port is out of range');
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return Object.freeze({ transport: 'tcp', host, port, grpcTarget: target });
}

/**
 * Parses a Workload API endpoint address as the SPIFFE Workload Endpoint specification
 * (§4) defines it: `unix:///absolute/path` (or `unix:/absolute/path`; no authority) or
 * `tcp://<IP>:<port>` (an IP address, never a DNS name; a port; nothing else). Query,
 * fragment and userinfo are refused everywhere.
 * @throws InvalidEndpointAddressError
 */
export function parseEndpointAddress(address: string): EndpointAddress {
  if (typeof address !== 'string' || address.length === 0) {
    fail('not_configured', 'the Workload API endpoint address is empty');
  }
  const scheme = SCHEME.exec(address);
  if (scheme === null) fail('not_a_uri', 'the Workload API endpoint address is not a URI with a scheme');
  if (address.includes('#')) fail('fragment_not_allowed', 'the endpoint address must not have a fragment');
  if (address.includes('?')) fail('query_not_allowed', 'the endpoint address must not have a query');
  const rest = address.slice(scheme[0].length);
  switch (scheme[1]?.toLowerCase()) {
    case 'unix':
      return parseUnix(rest);
    case 'tcp':
      return parseTcp(rest);
    default:
      return fail('unsupported_scheme', 'the Workload API endpoint address scheme must be "unix" or "tcp"');
  }
}

/**
 * The endpoint to use: the explicit `address` when given, otherwise `SPIFFE_ENDPOINT_SOCKET`
 * from `env` (the specification requires clients to fall back to it).
 * @throws InvalidEndpointAddressError (`not_configured` when neither is set)
 */
export function resolveEndpointAddress(
  address: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): EndpointAddress {
  const configured = address ?? env[SPIFFE_ENDPOINT_SOCKET];
  if (configured === undefined || configured.length === 0) {
    fail(
      'not_configured',
      `no Workload API endpoint: pass "endpoint" or set ${SPIFFE_ENDPOINT_SOCKET} (for example unix:///tmp/spire-agent/public/api.sock)`,
    );
  }
  return parseEndpointAddress(configured);
}
