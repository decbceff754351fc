import type {
  DynamicModule,
  ForwardReference,
  InjectionToken,
  OptionalFactoryDependency,
  Provider,
  Type,
} from '@nestjs/common';
import type {
  Authenticator,
  AuthenticatorOptions,
  AuthenticatorSource,
  ChallengeOptions,
} from '@wimse-auth/core';
import { authenticatorFrom } from '@wimse-auth/core';

/** Options of this adapter (not of the core authenticator). */
export interface WimseAdapterOptions {
  /** `realm` auth-param added to every `WWW-Authenticate` challenge. */
  realm?: string;
}

type NoCoreOptions = { [K in keyof AuthenticatorOptions]?: never };

/**
 * What `WimseModule` is configured with: the core {@link AuthenticatorOptions} (the
 * authenticator is built once, when the module initialises), or `{ authenticator }` with one
 * built by `createAuthenticator`; plus the adapter's own {@link WimseAdapterOptions}.
 */
export type WimseOptions = WimseAdapterOptions &
  ((AuthenticatorOptions & { authenticator?: never }) | ({ authenticator: Authenticator } & NoCoreOptions));

/** Options of `WimseModule.forRoot`. */
export type WimseModuleOptions = WimseOptions & {
  /** Register the module globally (default `true`), so guards anywhere can inject it. */
  global?: boolean;
};

/** A class that produces the options (`forRootAsync({ useClass | useExisting })`). */
export interface WimseOptionsFactory {
  createWimseOptions(): WimseOptions | Promise<WimseOptions>;
}

/** Options of `WimseModule.forRootAsync`: exactly one of `useFactory`, `useClass`, `useExisting`. */
export interface WimseModuleAsyncOptions {
  /** Modules whose providers `useFactory`/`useClass` depend on (for example `ConfigModule`). */
  imports?: Array<Type<unknown> | DynamicModule | Promise<DynamicModule> | ForwardReference>;
  // biome-ignore lint/suspicious/noExplicitAny: mirrors Nest's own FactoryProvider signature
  useFactory?: (...args: any[]) => WimseOptions | Promise<WimseOptions>;
  /** What `useFactory` receives, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useClass?: Type<WimseOptionsFactory>;
  useExisting?: Type<WimseOptionsFactory>;
  /** More providers for the module (for example the one `useExisting` names). */
  extraProviders?: Provider[];
  /** Register the module globally (default `true`). */
  global?: boolean;
}

/** The core authenticator for the module options (adapter keys removed). */
export function authenticatorFor(options: WimseModuleOptions): Authenticator {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      'WimseModule options are required: the core authenticator options, or { authenticator }',
    );
  }
  const { realm: _realm, global: _global, ...source } = options;
  return authenticatorFrom(source as AuthenticatorSource);
}

/** Challenge options for the authenticator and adapter options. */
export function challengeOptionsFor(
  authenticator: Authenticator,
  options: WimseAdapterOptions,
): ChallengeOptions {
  const challenges: ChallengeOptions = { accept: authenticator.accept };
  if (options.realm !== undefined) challenges.realm = options.realm;
  return challenges;
}
