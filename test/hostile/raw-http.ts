// A deliberately small HTTP/1.1 client over node:net. fetch and node:http normalise,
// validate or merge header fields; the corpus needs to send exactly the bytes it means
// (duplicate fields, odd spacing, obs-text, oversized sections, pipelined requests).
import { connect } from 'node:net';

/** One header field line; a Buffer value is written byte for byte. */
export type HeaderField = readonly [name: string, value: string | Buffer];

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly HeaderField[];
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; every field line kept, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

/** Serialises requests for one connection; the last asks the server to close it. */
export function serialise(requests: readonly RawRequest[]): Buffer {
  const parts: Buffer[] = [];
  requests.forEach((request, index) => {
    const last = index === requests.length - 1;
    let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: orders.example.org\r\n`;
    if (request.method !== 'GET' && request.method !== 'HEAD') head += 'content-length: 0\r\n';
    parts.push(Buffer.from(head, 'latin1'));
    for (const [name, value] of request.headers) {
      parts.push(Buffer.from(`${name}: `, 'latin1'));
      parts.push(typeof value === 'string' ? Buffer.from(value, 'latin1') : value);
      parts.push(Buffer.from('\r\n', 'latin1'));
    }
    parts.push(Buffer.from(last ? 'connection: close\r\n\r\n' : '\r\n', 'latin1'));
  });
  return Buffer.concat(parts);
}

/** Parses consecutive responses (Content-Length, chunked, or read-to-close bodies). */
export function parseResponses(bytes: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (headEnd < 0) throw new Error('truncated response head');
    const lines = bytes.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (statusMatch === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    const field = (name: string) => headers.find(([n]) => n === name)?.[1];
    let cursor = headEnd + 4;
    let body: Buffer;
    const length = field('content-length');
    if (length !== undefined) {
      body = bytes.subarray(cursor, cursor + Number(length));
      cursor += Number(length);
    } else if (field('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', cursor, 'latin1');
        if (lineEnd < 0) throw new Error('truncated chunked body');
        const size = Number.parseInt(bytes.subarray(cursor, lineEnd).toString('latin1'), 16);
        cursor = lineEnd + 2;
        if (size === 0) {
          cursor = bytes.indexOf('\r\n', cursor, 'latin1') + 2;
          break;
        }
        chunks.push(bytes.subarray(cursor, cursor + size));
        cursor += size + 2;
      }
      body = Buffer.concat(chunks);
    } else {
      body = bytes.subarray(cursor);
      cursor = bytes.length;
    }
    responses.push({ status: Number(statusMatch[1]), headers, body: body.toString('utf8') });
    offset = cursor;
  }
  return responses;
}

/**
 * Writes `bytes` on a fresh connection to 127.0.0.1:`port` and reads until the server
 * closes it. Rejects after `timeoutMs`: a server that does not answer is a hang.
 */
export function exchange(port: number, bytes: Buffer, timeoutMs: number): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponses(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}
