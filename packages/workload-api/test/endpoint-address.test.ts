import { describe, expect, it } from 'vitest';
import {
  type EndpointAddressProblem,
  InvalidEndpointAddressError,
  parseEndpointAddress,
  resolveEndpointAddress,
} from '../src/endpoint-address.js';

describe('parseEndpointAddress', () => {
  const valid: Array<[string, Record<string, unknown>]> = [
    [
      'unix:///tmp/agent.sock',
      { transport: 'unix', path: '/tmp/agent.sock', grpcTarget: 'unix:/tmp/agent.sock' },
    ],
    ['unix:/tmp/agent.sock', { transport: 'unix', path: '/tmp/agent.sock' }],
    ['UNIX:///run/spire/sockets/api.sock', { transport: 'unix', path: '/run/spire/sockets/api.sock' }],
    ['unix:///tmp/my%20agent.sock', { transport: 'unix', path: '/tmp/my agent.sock' }],
    [
      'tcp://127.0.0.1:8000',
      { transport: 'tcp', host: '127.0.0.1', port: 8000, grpcTarget: '127.0.0.1:8000' },
    ],
    ['tcp://10.0.0.1:1', { transport: 'tcp', host: '10.0.0.1', port: 1 }],
    ['tcp://[::1]:65535', { transport: 'tcp', host: '::1', port: 65535, grpcTarget: '[::1]:65535' }],
  ];
  it.each(valid)('accepts %s', (address, expected) => {
    expect(parseEndpointAddress(address)).toMatchObject(expected);
  });

  const invalid: Array<[string, EndpointAddressProblem]> = [
    ['', 'not_configured'],
    ['/tmp/agent.sock', 'not_a_uri'],
    ['agent.sock', 'not_a_uri'],
    ['http://127.0.0.1:8000', 'unsupported_scheme'],
    ['npipe:spire-agent', 'unsupported_scheme'],
    ['unix://tmp/agent.sock', 'authority_not_allowed'],
    ['unix://localhost/tmp/agent.sock', 'authority_not_allowed'],
    ['unix://agent.sock', 'authority_not_allowed'],
    ['unix:agent.sock', 'path_not_absolute'],
    ['unix:relative/agent.sock', 'path_not_absolute'],
    ['unix:', 'path_not_absolute'],
    ['unix://', 'path_not_absolute'],
    ['unix:///', 'invalid_path'],
    ['unix:///tmp/', 'invalid_path'],
    ['unix:///tmp/agent.sock?mode=1', 'query_not_allowed'],
    ['unix:///tmp/agent.sock#x', 'fragment_not_allowed'],
    ['unix:///tmp/a gent.sock', 'invalid_path'],
    ['unix:///tmp/%zz', 'invalid_path'],
    ['unix:///tmp/%00agent', 'invalid_path'],
    ['tcp://127.0.0.1', 'port_missing'],
    ['tcp://127.0.0.1:', 'port_missing'],
    ['tcp://[::1]', 'port_missing'],
    ['tcp://localhost:8000', 'host_not_an_ip_address'],
    ['tcp://spire-agent.svc:8000', 'host_not_an_ip_address'],
    ['tcp://:8000', 'host_not_an_ip_address'],
    ['tcp://256.0.0.1:8000', 'host_not_an_ip_address'],
    ['tcp://[::1:8000', 'host_not_an_ip_address'],
    ['tcp://[localhost]:8000', 'host_not_an_ip_address'],
    ['tcp://127.0.0.1:8000/foo', 'path_not_allowed'],
    ['tcp://127.0.0.1:8000/', 'path_not_allowed'],
    ['tcp://127.0.0.1:8000?x=1', 'query_not_allowed'],
    ['tcp://127.0.0.1:8000#x', 'fragment_not_allowed'],
    ['tcp://user:secret@127.0.0.1:8000', 'userinfo_not_allowed'],
    ['tcp://127.0.0.1:0', 'invalid_port'],
    ['tcp://127.0.0.1:65536', 'invalid_port'],
    ['tcp://127.0.0.1:80a', 'invalid_port'],
    ['tcp://127.0.0.1:-1', 'invalid_port'],
    ['tcp:127.0.0.1:8000', 'not_a_uri'],
  ];
  it.each(invalid)('rejects %j (%s)', (address, problem) => {
    let caught: unknown;
    try {
      parseEndpointAddress(address);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEndpointAddressError);
    expect(caught).toMatchObject({ code: 'invalid_endpoint_address', problem });
    // The message never repeats the address: userinfo could hold a password.
    expect((caught as Error).message).not.toContain('secret');
  });
});

describe('resolveEndpointAddress', () => {
  it('prefers the explicit address over SPIFFE_ENDPOINT_SOCKET', () => {
    const env = { SPIFFE_ENDPOINT_SOCKET: 'unix:///from/env.sock' };
    expect(resolveEndpointAddress('tcp://127.0.0.1:1234', env)).toMatchObject({
      transport: 'tcp',
      port: 1234,
    });
    expect(resolveEndpointAddress(undefined, env)).toMatchObject({ path: '/from/env.sock' });
  });

  it('refuses to guess when nothing is configured', () => {
    expect(() => resolveEndpointAddress(undefined, {})).toThrow(
      expect.objectContaining({
        problem: 'not_configured',
        message: expect.stringContaining('SPIFFE_ENDPOINT_SOCKET'),
      }),
    );
    expect(() => resolveEndpointAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: '' })).toThrow(
      InvalidEndpointAddressError,
    );
  });

  it('validates the environment value like an explicit one', () => {
    expect(() =>
      resolveEndpointAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: 'unix://host/agent.sock' }),
    ).toThrow(expect.objectContaining({ problem: 'authority_not_allowed' }));
  });
});
