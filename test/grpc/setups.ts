// gRPC servers answering the conformance cases: the @wimse-auth/grpc interceptor on a plain
// grpc-js server, and WimseGuard on a Nest gRPC microservice. Both listen on 127.0.0.1.
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, type LoggerService, Module, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { allowAny, type GrpcAudienceOptions, grpcAudience, type WorkloadPrincipal } from '@wimse-auth/core';
import { getWorkload, wimseServerInterceptor } from '@wimse-auth/grpc';
import {
  AllowWorkloads,
  OptionalAuthentication,
  WimseGuard,
  WimseModule,
  Workload,
} from '@wimse-auth/nestjs';
import type { Route } from '../conformance/cases.js';
import type { ServerConfig } from '../conformance/harness.js';

export const PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'conformance.proto');

/** The gRPC method standing for each conformance route. */
export const METHOD_OF: Readonly<Record<Route, string>> = {
  '/orders': '/conformance.Conformance/Orders',
  '/optional': '/conformance.Conformance/Optional',
  '/admin': '/conformance.Conformance/Admin',
};
const ROUTE_OF = new Map(Object.entries(METHOD_OF).map(([route, method]) => [method, route]));

/**
 * The cases address proofs to `https://orders.example.org/<route>` (HTTP style). The gRPC
 * servers accept exactly what the HTTP servers accept: a resolver maps each method to its
 * route's audience, and the authority lets JWT-SVIDs name the bare origin.
 */
export function conformanceAudience(origin: string): GrpcAudienceOptions {
  return {
    authorities: [new URL(origin).host],
    resolve: (call) => {
      const route = ROUTE_OF.get(call.path);
      return route === undefined ? undefined : `${origin}${route}`;
    },
  };
}

export interface Seen {
  has_principal: boolean;
  id: string;
  trust_domain: string;
  credential: string;
  credential_form: string;
}

function seen(principal: WorkloadPrincipal | undefined): Seen {
  return principal === undefined
    ? { has_principal: false, id: '', trust_domain: '', credential: '', credential_form: '' }
    : {
        has_principal: true,
        id: principal.id,
        trust_domain: principal.trustDomain,
        credential: principal.credential,
        credential_form: principal.credentialForm,
      };
}

const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
export const Conformance = (
  grpc.loadPackageDefinition(definition) as unknown as {
    conformance: { Conformance: grpc.ServiceClientConstructor };
  }
).conformance.Conformance;

export interface GrpcServer {
  readonly target: string;
  close(): Promise<void>;
}

export interface GrpcSetup {
  readonly name: string;
  /** Routes this set-up cannot express, with the reason. */
  readonly unsupported: Partial<Record<Route, string>>;
  start(config: ServerConfig): Promise<GrpcServer>;
}

/** The @wimse-auth/grpc interceptor: Admin admits the admin only, everything else any caller. */
export const interceptorSetup: GrpcSetup = {
  name: 'grpc-js + wimseServerInterceptor',
  unsupported: {},
  async start(config) {
    const server = new grpc.Server({
      interceptors: [
        wimseServerInterceptor({
          trust: config.trust,
          audience: conformanceAudience(config.audience.origins[0]!),
          issuers: config.issuers,
          authorize: { [METHOD_OF['/admin']]: config.adminId, '*': allowAny() },
          optionalMethods: [METHOD_OF['/optional']],
          ...(config.log === undefined
            ? {}
            : { onRejected: (error, method) => config.log?.(`${method} refused: ${inspect(error)}`) }),
        }),
      ],
    });
    const handler = (call: grpc.ServerUnaryCall<unknown, Seen>, callback: grpc.sendUnaryData<Seen>): void =>
      callback(null, seen(getWorkload(call)));
    server.addService(Conformance.service, { Orders: handler, Optional: handler, Admin: handler });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    return {
      target: `127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.forceShutdown();
          resolve();
        }),
    };
  },
};

// Decorators are applied as calls: this directory's tsconfig (and so the test transformer)
// does not enable the legacy decorators Nest uses.
function decorate(target: Type<unknown>, method: string, decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  for (const decorator of decorators) decorator(target.prototype, method, descriptor!);
}

function nestModule(config: ServerConfig): Type<unknown> {
  class ConformanceController {
    orders(_request: unknown, principal: WorkloadPrincipal | undefined): Seen {
      return seen(principal);
    }
    optional(_request: unknown, principal: WorkloadPrincipal | undefined): Seen {
      return seen(principal);
    }
    admin(_request: unknown, principal: WorkloadPrincipal | undefined): Seen {
      return seen(principal);
    }
  }
  Controller()(ConformanceController);
  decorate(ConformanceController, 'orders', [GrpcMethod('Conformance', 'Orders')]);
  decorate(ConformanceController, 'optional', [
    GrpcMethod('Conformance', 'Optional'),
    OptionalAuthentication(),
  ]);
  decorate(ConformanceController, 'admin', [
    GrpcMethod('Conformance', 'Admin'),
    AllowWorkloads(config.adminId),
  ]);
  for (const method of ['orders', 'optional', 'admin'])
    Workload()(ConformanceController.prototype, method, 1);

  class ConformanceModule {}
  Module({
    imports: [
      WimseModule.forRoot({
        trust: config.trust,
        audience: grpcAudience(conformanceAudience(config.audience.origins[0]!)),
        issuers: config.issuers,
      }),
    ],
    controllers: [ConformanceController],
    providers: [{ provide: APP_GUARD, useClass: WimseGuard }],
  })(ConformanceModule);
  return ConformanceModule;
}

function nestLogger(config: ServerConfig): LoggerService | false {
  const { log } = config;
  if (log === undefined) return false;
  const write = (...parts: unknown[]) => log(parts.map((part) => inspect(part, { depth: 5 })).join(' '));
  return { log: write, error: write, warn: write, debug: write, verbose: write, fatal: write };
}

/** A free loopback port (Nest's gRPC transport does not report the port it bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** WimseGuard (APP_GUARD) with @OptionalAuthentication and @AllowWorkloads on a Nest gRPC microservice. */
export const nestSetup: GrpcSetup = {
  name: 'Nest gRPC microservice + WimseGuard',
  unsupported: {},
  async start(config) {
    const port = await freePort();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(nestModule(config), {
      transport: Transport.GRPC,
      options: {
        package: 'conformance',
        protoPath: PROTO,
        url: `127.0.0.1:${port}`,
        loader: { keepCase: true },
      },
      logger: nestLogger(config),
    });
    await app.listen();
    return { target: `127.0.0.1:${port}`, close: () => app.close() };
  },
};

export const GRPC_SETUPS: readonly GrpcSetup[] = [interceptorSetup, nestSetup];
