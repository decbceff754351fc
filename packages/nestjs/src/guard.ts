import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  type Authorizer,
  allOf,
  authenticateGrpcCall,
  authenticateRequest,
  authorize,
  credentialsMissingError,
  isWimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { WIMSE_METADATA } from './constants.js';
import { POLICY_KEYS, type PolicyMetadata } from './decorators.js';
import { grpcCallOfContext, grpcException, type NestGrpcCall } from './grpc.js';
import { coreRequest, type WimseHttpRequest } from './http.js';
import { WimseAuthService } from './service.js';

type Targets = Parameters<Reflector['getAllAndOverride']>[1];

/** What a route's decorators ask of the guard. */
interface RouteSettings {
  readonly isPublic: boolean;
  readonly optional: boolean;
  readonly policy: Authorizer | undefined;
}

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

  // The decorators' answers per controller class and handler: metadata is fixed once the
  // classes are defined, so each route reads it once instead of on every request.
  private readonly routes = new WeakMap<object, WeakMap<object, RouteSettings>>();

  // Not async: a repeated credential the core answers from its cache, on a route without a
  // policy, is decided without a promise.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const type = context.getType();
    const grpc = type === 'rpc' ? grpcCallOfContext(context) : undefined;
    if (type !== 'http' && grpc === undefined) {
      // Fail closed: there is no HTTP request or gRPC call to read workload credentials from.
      throw new TypeError(`WimseGuard protects HTTP routes and gRPC methods only (got a "${type}" context)`);
    }
    const route = this.route(context.getClass(), context.getHandler());
    if (route.isPublic) return true;
    if (grpc !== undefined) return this.activateGrpc(grpc, route);
    // Nest's HTTP arguments are (request, response, next) on Express and Fastify alike;
    // reading them by index saves switchToHttp()'s three closures on every request.
    const req = context.getArgByIndex<WimseHttpRequest>(0);
    // A principal already on the request (a guard that ran before) is not authenticated again.
    const recorded = req.wimse;
    let outcome: WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined> = recorded;
    try {
      if (outcome === undefined) {
        outcome = authenticateRequest(this.wimse.authenticator, coreRequest(req), !route.optional);
      }
      if (outcome instanceof Promise) {
        return outcome
          .then((principal) => this.admit(req, principal, recorded, route))
          .catch((error: unknown) => this.refuse(error, context));
      }
      const admitted = this.admit(req, outcome, recorded, route);
      return admitted === true ? admitted : admitted.catch((error: unknown) => this.refuse(error, context));
    } catch (error) {
      return this.refuse(error, context);
    }
  }

  /**
   * Records the caller on the request, then applies the route's policy (none: allowed).
   * `recorded` is what `req.wimse` held when the guard started.
   */
  private admit(
    req: WimseHttpRequest,
    principal: WorkloadPrincipal | undefined,
    recorded: WorkloadPrincipal | undefined,
    route: RouteSettings,
  ): true | Promise<true> {
    // Each property read or added here is costly on Node 20 (see docs/performance.md), so the
    // guard reads `req.wimse` once and writes only what changes.
    if (principal !== undefined && principal !== recorded) {
      req.wimse = principal;
      if (req.user === undefined || req.user === null) req.user = principal;
    }
    if (route.policy === undefined) return true;
    if (principal === undefined) throw credentialsMissingError();
    return authorize(principal, route.policy).then(() => true);
  }

  /** A refusal: the core's errors become the HTTP exception Nest renders; others propagate. */
  private refuse(error: unknown, context: ExecutionContext): never {
    if (!isWimseError(error)) throw error;
    throw this.wimse.toHttpException(error, context.getArgByIndex(1));
  }

  /** The gRPC flavour: same decisions, principal keyed by the call's metadata, gRPC errors. */
  private async activateGrpc(call: NestGrpcCall, route: RouteSettings): Promise<boolean> {
    try {
      // The @wimse-auth/grpc interceptor (or a guard that ran before) may have authenticated
      // this call already; core then returns that caller instead of reusing the proof.
      const principal = await authenticateGrpcCall(
        this.wimse.authenticator,
        call.metadata,
        call.path,
        route.optional,
      );
      if (route.policy !== undefined) {
        if (principal === undefined) throw credentialsMissingError();
        await authorize(principal, route.policy);
      }
      return true;
    } catch (error) {
      if (!isWimseError(error)) throw error;
      throw await grpcException(error, call);
    }
  }

  private route(controller: object, handler: object): RouteSettings {
    let handlers = this.routes.get(controller);
    if (handlers === undefined) {
      handlers = new WeakMap();
      this.routes.set(controller, handlers);
    }
    let settings = handlers.get(handler);
    if (settings === undefined) {
      const targets = [handler, controller] as Targets;
      settings = {
        isPublic: this.flag(WIMSE_METADATA.publicRoute, targets),
        optional: this.flag(WIMSE_METADATA.optionalAuthentication, targets),
        policy: this.policy(targets),
      };
      handlers.set(handler, settings);
    }
    return settings;
  }

  private flag(key: string, targets: Targets): boolean {
    return this.reflector.getAllAndOverride<boolean | undefined>(key, targets) === true;
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
