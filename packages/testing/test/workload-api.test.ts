import { Client, credentials, status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { JwtBundle, verifyJwtSvid } from '@wimse-auth/core';
import { WORKLOAD_API_SECURITY_HEADER, workloadApiService } from '@wimse-auth/workload-api';
import { describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../src/index.js';
import { startFakeWorkloadApi } from '../src/workload-api/index.js';

const AUDIENCE = 'spiffe://example.org/orders';

/** A bare gRPC client: no library in between, so the test controls the metadata exactly. */
function rawClient(endpoint: string): Client {
  return new Client(endpoint.replace('unix://', 'unix:'), credentials.createInsecure());
}

function fetchJwtSvid(client: Client, metadata: Metadata, audience: string[] = [AUDIENCE]) {
  const method = workloadApiService().FetchJWTSVID;
  return new Promise<{ svids: Array<{ spiffeId: string; svid: string }> }>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      { audience, spiffeId: '' },
      metadata,
      { deadline: Date.now() + 10_000 },
      (error: ServiceError | null, response) =>
        error === null && response ? resolve(response) : reject(error),
    );
  });
}

function withHeader(value: string = WORKLOAD_API_SECURITY_HEADER.value): Metadata {
  const metadata = new Metadata();
  metadata.set(WORKLOAD_API_SECURITY_HEADER.key, value);
  return metadata;
}

/** The first FetchJWTBundles message, read with a bare client. */
function firstBundles(client: Client, metadata: Metadata): Promise<Record<string, Buffer>> {
  const method = workloadApiService().FetchJWTBundles;
  return new Promise((resolve, reject) => {
    const stream = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      {},
      metadata,
      { deadline: Date.now() + 10_000 },
    );
    stream.on('data', (message: { bundles: Record<string, Buffer> }) => {
      resolve(message.bundles);
      stream.cancel();
    });
    stream.on('error', reject);
  });
}

describe('startFakeWorkloadApi', () => {
  it('refuses calls without the workload.spiffe.io: true metadata with INVALID_ARGUMENT', async () => {
    await using fake = await startFakeWorkloadApi();
    const client = rawClient(fake.endpoint);
    try {
      for (const metadata of [new Metadata(), withHeader('TRUE'), withHeader('yes')]) {
        await expect(fetchJwtSvid(client, metadata)).rejects.toMatchObject({
          code: GrpcStatus.INVALID_ARGUMENT,
        });
      }
      await expect(firstBundles(client, new Metadata())).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
      expect(fake.refusedWithoutSecurityHeader).toBe(4);
      const { svids } = await fetchJwtSvid(client, withHeader());
      expect(svids.map((svid) => svid.spiffeId)).toEqual(['spiffe://example.org/workload']);
      expect(fake.calls).toMatchObject({ FetchJWTSVID: 4, FetchJWTBundles: 1 });
    } finally {
      client.close();
    }
  });

  it('issues real JWT-SVIDs signed by its trust domain and streams its JWT-SVID keys only', async () => {
    const trustDomain = createTestTrustDomain('prod.example.com');
    const federated = createTestTrustDomain('partner.example');
    await using fake = await startFakeWorkloadApi({
      trustDomain,
      federatedTrustDomains: [federated],
      identities: ['/ns/shop/sa/web'],
      jwtSvidTtlSeconds: 120,
    });
    const client = rawClient(fake.endpoint);
    try {
      const { svids } = await fetchJwtSvid(client, withHeader());
      const verified = await verifyJwtSvid(svids[0]?.svid ?? '', {
        trust: trustDomain.bundleSource,
        audience: AUDIENCE,
      });
      expect(verified.spiffeId.toString()).toBe('spiffe://prod.example.com/ns/shop/sa/web');
      expect(verified.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);

      const bundles = await firstBundles(client, withHeader());
      expect(Object.keys(bundles).sort()).toEqual(['spiffe://partner.example', 'spiffe://prod.example.com']);
      const served = JwtBundle.fromJwks(
        'prod.example.com',
        bundles['spiffe://prod.example.com']?.toString() ?? '',
      );
      // Only the JWT-SVID key, without a SPIFFE `use` (a plain JWKS, as SPIRE sends it).
      expect(served.keys.map((key) => key.kid)).toEqual(['jwt-1']);
    } finally {
      client.close();
    }
  });

  it('fails the next N calls of a method with the given status, then answers again', async () => {
    await using fake = await startFakeWorkloadApi();
    const client = rawClient(fake.endpoint);
    try {
      fake.failNext(2, GrpcStatus.PERMISSION_DENIED, {
        method: 'FetchJWTSVID',
        details: 'no identity issued',
      });
      fake.failNext(1, GrpcStatus.UNAVAILABLE, { method: 'FetchJWTBundles' });
      await expect(firstBundles(client, withHeader())).rejects.toMatchObject({
        code: GrpcStatus.UNAVAILABLE,
      });
      await expect(fetchJwtSvid(client, withHeader())).rejects.toMatchObject({
        code: GrpcStatus.PERMISSION_DENIED,
        details: 'no identity issued',
      });
      await expect(fetchJwtSvid(client, withHeader())).rejects.toMatchObject({
        code: GrpcStatus.PERMISSION_DENIED,
      });
      await expect(fetchJwtSvid(client, withHeader())).resolves.toMatchObject({ svids: [expect.anything()] });
      expect(() => fake.failNext(-1, GrpcStatus.INTERNAL)).toThrow(RangeError);
    } finally {
      client.close();
    }
  });

  it('stops and restarts on the same socket, and can listen on TCP', async () => {
    await using fake = await startFakeWorkloadApi();
    await fake.stop();
    expect(fake.running).toBe(false);
    const client = rawClient(fake.endpoint);
    try {
      await expect(fetchJwtSvid(client, withHeader())).rejects.toMatchObject({
        code: GrpcStatus.UNAVAILABLE,
      });
      await fake.start();
      expect(fake.running).toBe(true);
      // The channel reconnects on its own backoff; a few attempts within a bounded time.
      const deadline = Date.now() + 10_000;
      let answer: Awaited<ReturnType<typeof fetchJwtSvid>> | undefined;
      while (answer === undefined && Date.now() < deadline) {
        answer = await fetchJwtSvid(client, withHeader()).catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return undefined;
        });
      }
      expect(answer?.svids).toHaveLength(1);
    } finally {
      client.close();
    }

    await using tcp = await startFakeWorkloadApi({ transport: 'tcp' });
    expect(tcp.socketPath).toBeUndefined();
    const tcpClient = new Client(tcp.endpoint.slice('tcp://'.length), credentials.createInsecure());
    try {
      await expect(fetchJwtSvid(tcpClient, withHeader())).resolves.toMatchObject({
        svids: [expect.anything()],
      });
    } finally {
      tcpClient.close();
    }
  });

  it('answers the WIT-SVID profile with UNIMPLEMENTED', async () => {
    await using fake = await startFakeWorkloadApi();
    const client = rawClient(fake.endpoint);
    try {
      const method = workloadApiService().FetchWITBundles;
      const code = await new Promise<number>((resolve) => {
        const stream = client.makeServerStreamRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          {},
          withHeader(),
          { deadline: Date.now() + 10_000 },
        );
        stream.on('error', (error: ServiceError) => resolve(error.code));
      });
      expect(code).toBe(GrpcStatus.UNIMPLEMENTED);
      expect(fake.calls.FetchWITBundles).toBe(1);
    } finally {
      client.close();
    }
  });
});
