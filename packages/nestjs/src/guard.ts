import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  type Authorizer,
  allOf,
  authenticateGrpcCall,
  authorize,
  credentialsMissingError,
  isWimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { WIMSE_METADATA } from './constants.js';
import { POLICY_KEYS, type PolicyMetadata } from './decorators.js';
import { grpcCallOfContext, grpcException, type NestGrpcCall } from './grpc.js';
import type { WimseHttpRequest } from './http.js';
import { WimseAuthService } from './service.js';

type Targets = Parameters<Reflector['getAllAndOverride']>[1];

/**
 * Authenticates the calling workload of an HTTP request (Express or Fastify platform), sets
 * `req.wimse` (and `req.user` when nothing else set it) to the principal, then applies the
 * route's policy decorators. Use per controller/route (`@UseGuards(WimseGuard)`) or for every
 * route (`{ provide: APP_GUARD, useClass: WimseGuard }`).
 *
 * On a gRPC microservice (`@GrpcMethod`, `@GrpcStreamMethod`, `@GrpcStreamCall`) it reads the
 * call's metadata, authenticates it for the method path (configure the module's audience with
 * the core's `grpcAudience`), and fails with an `RpcException` carrying the gRPC status
 * (`UNAUTHENTICATED`, `PERMISSION_DENIED`, `UNAVAILABLE`) and `wimse-error` trailing metadata.
 * Other transports are refused (fail closed).
 *
 * Metadata is read with `Reflector.getAllAndOverride([handler, class])`: for each decorator,
 * the method's value replaces the controller's; different decorators all apply.
 *
 * Failures throw a {@link WimseHttpException} (401/403/503 with the core's problem body)
 * after setting `WWW-Authenticate` and `Cache-Control` on the response, so Nest's default
 * exception filter answers correctly. A request that already carries `req.wimse` (a guard
 * that ran before, e.g. `AuthGuard('wimse')` or a global `WimseGuard`) is not authenticated
 * again: a proof may be used once only.
 */
@Injectable()
export class WimseGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(WimseAuthService) private readonly wimse: WimseAuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const type = context.getType();
    const grpc = type === 'rpc' ? grpcCallOfContext(context) : undefined;
    if (type !== 'http' && grpc === undefined) {
      // Fail closed: there is no HTTP request or gRPC call to read workload credentials from.
      throw new TypeError(`WimseGuard protects HTTP routes and gRPC methods only (got a "${type}" context)`);
    }
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(WIMSE_METADATA.publicRoute, targets) === true) {
      return true;
    }
    if (grpc !== undefined) return this.activateGrpc(grpc, targets);
    const http = context.switchToHttp();
    const req = http.getRequest<WimseHttpRequest>();
    try {
      let principal: WorkloadPrincipal | undefined = req.wimse;
      if (principal === undefined) {
        principal = this.optional(targets)
          ? await this.wimse.authenticateIfPresent(req)
          : await this.wimse.authenticate(req);
        if (principal !== undefined) {
          req.wimse = principal;
          if (req.user === undefined || req.user === null) req.user = principal;
        }
      }
      await this.enforcePolicy(principal, targets);
      return true;
    } catch (error) {
      if (!isWimseError(error)) throw error;
      throw this.wimse.toHttpException(error, http.getResponse());
    }
  }

  /** The gRPC flavour: same decisions, principal keyed by the call's metadata, gRPC errors. */
  private async activateGrpc(call: NestGrpcCall, targets: Targets): Promise<boolean> {
    try {
      // The @wimse-auth/grpc interceptor (or a guard that ran before) may have authenticated
      // this call already; core then returns that caller instead of reusing the proof.
      const principal = await authenticateGrpcCall(
        this.wimse.authenticator,
        call.metadata,
        call.path,
        this.optional(targets),
      );
      await this.enforcePolicy(principal, targets);
      return true;
    } catch (error) {
      if (!isWimseError(error)) throw error;
      throw await grpcException(error, call);
    }
  }

  /** The route's policy decorators, applied to the caller (none authenticated: 401). */
  private async enforcePolicy(principal: WorkloadPrincipal | undefined, targets: Targets): Promise<void> {
    const authorizer = this.policy(targets);
    if (authorizer === undefined) return;
    if (principal === undefined) throw credentialsMissingError();
    await authorize(principal, authorizer);
  }

  private optional(targets: Targets): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(
        WIMSE_METADATA.optionalAuthentication,
        targets,
      ) === true
    );
  }

  /** The route's policy: every policy decorator that applies, all of which must allow. */
  private policy(targets: Targets): Authorizer | undefined {
    const authorizers: Authorizer[] = [];
    for (const key of POLICY_KEYS) {
      const authorizer = this.reflector.getAllAndOverride<PolicyMetadata>(key, targets);
      if (typeof authorizer === 'function') authorizers.push(authorizer);
    }
    if (authorizers.length === 0) return undefined;
    return authorizers.length === 1 ? authorizers[0] : allOf(...authorizers);
  }
}
