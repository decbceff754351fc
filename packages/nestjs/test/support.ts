// Starts Nest test apps over real HTTP (127.0.0.1, ephemeral port) on either platform.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/** The origin every test service is configured with; proofs are addressed to it. */
export const ORIGIN = 'https://orders.example.org';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

export interface Running {
  readonly app: INestApplication;
  readonly base: string;
  close(): Promise<void>;
}

/** Compiles `metadata` into an app on `platform`, listening on 127.0.0.1. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
): Promise<Running> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): Record<string, unknown>;
}

/** GET `base + path`; an array header value is sent as several field lines. */
export function get(
  base: string,
  path: string,
  headers: Record<string, string | string[]> = {},
): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'GET',
        headers,
        timeout: 5000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The `WWW-Authenticate` challenges as one string. */
export function challenge(reply: Reply): string {
  const value = reply.headers['www-authenticate'];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
