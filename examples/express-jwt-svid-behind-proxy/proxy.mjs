// A minimal TLS-terminating reverse proxy: HTTPS in, plain HTTP to one upstream, the way an
// ingress controller or a load balancer sits in front of a service. For the example only; in
// production this is nginx, Envoy, a cloud load balancer.
import { request } from 'node:http';
import { createServer } from 'node:https';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

export function createTlsProxy({ cert, key, upstream }) {
  const target = new URL(upstream);
  return createServer({ cert, key }, (incoming, outgoing) => {
    // Raw headers keep every field as sent, duplicates included: a request carrying two
    // Authorization fields must reach the service as such, to be refused there.
    const headers = [];
    for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
      const name = incoming.rawHeaders[i].toLowerCase();
      // A client's own X-Forwarded-* are dropped: this proxy overwrites them.
      if (HOP_BY_HOP.has(name) || name.startsWith('x-forwarded-')) continue;
      headers.push(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
    }
    headers.push('X-Forwarded-Proto', 'https', 'X-Forwarded-Host', incoming.headers.host ?? '');
    headers.push('X-Forwarded-For', incoming.socket.remoteAddress ?? '');

    const forwarded = request(
      { hostname: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers },
      (response) => {
        outgoing.writeHead(response.statusCode, response.rawHeaders);
        response.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forwarded);
  });
}
