import { describe, expect, it } from 'vitest';
import { startExample, TOKEN_PATTERN } from './example-runner.js';

describe('examples/grpc-echo', () => {
  it('npm start: the admitted client echoes (unary and streaming), the other identity is denied', async () => {
    const stdout = await startExample('grpc-echo');
    expect(stdout).toContain('local trust domain example.org');
    expect(stdout).toMatch(/client: UnaryEcho +OK +hello \(from spiffe:\/\/example\.org\/client\)/);
    expect(stdout).toMatch(/client: ServerStreamingEcho +OK +hello #1 \| hello #2 \| hello #3/);
    expect(stdout).toMatch(/other: UnaryEcho +PERMISSION_DENIED +access_denied/);
    expect(stdout).toMatch(/other: ServerStreamingEcho +PERMISSION_DENIED +access_denied/);
    expect(stdout).toContain('[server] /echo.Echo/UnaryEcho refused: access_denied');
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });
});
