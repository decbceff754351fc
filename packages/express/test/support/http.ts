// Real HTTP servers on 127.0.0.1 with an ephemeral port, and a raw-socket client for requests
// that fetch cannot send (duplicate header fields).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Express } from 'express';

/** What the service's callers address (as behind a TLS-terminating proxy). */
export const ORIGIN = 'https://orders.internal.example.org';

export interface Running {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly port: number;
  close(): Promise<void>;
}

export function listening(server: Server): Promise<Running> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        base: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((error) => (error ? fail(error) : done()));
          }),
      });
    };
    if (server.listening) ready();
    else {
      server.once('listening', ready);
      server.once('error', reject);
    }
  });
}

export function listen(app: Express): Promise<Running> {
  return listening(app.listen(0, '127.0.0.1'));
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated fields keep every value. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  /** Everything the server sent, status line, headers and body. */
  readonly raw: string;
}

/** Sends `request` (a complete HTTP/1.1 message) over a socket and reads until close. */
export function rawRequest(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.slice(0, split).split('\r\n');
      const status = Number(head[0]?.split(' ')[1]);
      const headers = head.slice(1).map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
      });
      resolve({ status, headers, body: raw.slice(split + 4), raw });
    });
    socket.write(request);
  });
}

/** A GET with the given header lines (repeats allowed), `Connection: close`. */
export function rawGet(port: number, path: string, headerLines: readonly string[]): Promise<RawResponse> {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...headerLines];
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n`);
}

/** Everything a fetch response exposes, for "no token material" checks. */
export async function everything(response: Response): Promise<{ text: string; all: string }> {
  const text = await response.text();
  const headerText = [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  return { text, all: `${response.status}\n${headerText}\n\n${text}` };
}
