import {
  AccessDeniedError,
  type Authorizer,
  type AuthorizerSpec,
  allowAny,
  parseGrpcMethodPath,
  toAuthorizer,
} from '@wimse-auth/core';

/**
 * Policies per method or service. Keys are a full method path (`/echo.Echo/UnaryEcho`), a
 * service (`echo.Echo`), or `*` for everything else. The most specific key wins (method, then
 * service, then `*`); a call matching no key is denied, so a method added later is not open
 * by accident.
 */
export type GrpcAuthorizationRules = Readonly<Record<string, AuthorizerSpec>>;

/** What the interceptor's `authorize` option takes: one policy for every call, or rules. */
export type GrpcAuthorization = AuthorizerSpec | GrpcAuthorizationRules;

const SERVICE_NAME = /^[^/\s*]+$/;

/** Picks the authorizer of a call; `undefined` means no rule matches (deny). */
export type MethodAuthorizers = (path: string) => Authorizer | undefined;

function isRules(value: GrpcAuthorization): value is GrpcAuthorizationRules {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns the `authorize` option into a per-method lookup, validating every key and policy
 * now, so a typo fails at startup.
 * @throws TypeError for a malformed key or policy
 */
export function methodAuthorizers(authorize: GrpcAuthorization | undefined): MethodAuthorizers {
  if (authorize === undefined) {
    const any = allowAny();
    return () => any;
  }
  if (!isRules(authorize)) {
    const authorizer = toAuthorizer(authorize);
    return () => authorizer;
  }
  const byKey = new Map<string, Authorizer>();
  for (const [key, spec] of Object.entries(authorize)) {
    if (key !== '*' && !key.startsWith('/') && !SERVICE_NAME.test(key)) {
      throw new TypeError(
        `authorization rule key ${JSON.stringify(key)} must be /<package.Service>/<Method>, <package.Service> or *`,
      );
    }
    if (key.startsWith('/')) parseGrpcMethodPath(key);
    byKey.set(key, toAuthorizer(spec));
  }
  if (byKey.size === 0) throw new TypeError('authorization rules must name at least one method or service');
  return (path) => {
    const exact = byKey.get(path);
    if (exact !== undefined) return exact;
    const { service } = parseGrpcMethodPath(path);
    return byKey.get(service) ?? byKey.get('*');
  };
}

/** The error for a call no rule covers. */
export function noRuleError(): AccessDeniedError {
  return new AccessDeniedError('no authorization rule covers this method');
}
