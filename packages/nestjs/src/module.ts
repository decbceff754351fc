import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Authenticator } from '@wimse-auth/core';
import { WIMSE_AUTHENTICATOR, WIMSE_MODULE_OPTIONS } from './constants.js';
import { WimseGuard } from './guard.js';
import {
  authenticatorFor,
  type WimseModuleAsyncOptions,
  type WimseModuleOptions,
  type WimseOptions,
  type WimseOptionsFactory,
} from './options.js';
import { WimseAuthService } from './service.js';

const EXPORTS = [WIMSE_AUTHENTICATOR, WIMSE_MODULE_OPTIONS, WimseAuthService, WimseGuard];

const SHARED_PROVIDERS: Provider[] = [
  {
    provide: WIMSE_AUTHENTICATOR,
    useFactory: (options: WimseModuleOptions): Authenticator => authenticatorFor(options),
    inject: [WIMSE_MODULE_OPTIONS],
  },
  WimseAuthService,
  WimseGuard,
];

const OPTIONS_FACTORY = '@wimse-auth/nestjs:options-factory';

function asyncOptionsProviders(options: WimseModuleAsyncOptions): Provider[] {
  const given = [options.useFactory, options.useClass, options.useExisting].filter((x) => x !== undefined);
  if (given.length !== 1) {
    throw new TypeError('WimseModule.forRootAsync needs exactly one of useFactory, useClass, useExisting');
  }
  if (options.useFactory !== undefined) {
    return [{ provide: WIMSE_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
  }
  const fromFactory = {
    provide: WIMSE_MODULE_OPTIONS,
    useFactory: (factory: WimseOptionsFactory): WimseOptions | Promise<WimseOptions> =>
      factory.createWimseOptions(),
    inject: [OPTIONS_FACTORY],
  };
  if (options.useClass !== undefined) {
    return [{ provide: OPTIONS_FACTORY, useClass: options.useClass }, fromFactory];
  }
  return [{ provide: OPTIONS_FACTORY, useExisting: options.useExisting }, fromFactory];
}

/**
 * Provides one core authenticator to the application: the `WIMSE_AUTHENTICATOR` token,
 * {@link WimseAuthService} and {@link WimseGuard}. Global unless `global: false`.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static factories
export class WimseModule {
  /** Configures the module with options known now. Invalid options throw at startup. */
  static forRoot(options: WimseModuleOptions): DynamicModule {
    return {
      module: WimseModule,
      global: options?.global ?? true,
      providers: [{ provide: WIMSE_MODULE_OPTIONS, useValue: options }, ...SHARED_PROVIDERS],
      exports: EXPORTS,
    };
  }

  /**
   * Configures the module with options computed by a factory or an options class, for example
   * from `ConfigService`: `forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * useFactory: (config) => ({ ... }) })`.
   */
  static forRootAsync(options: WimseModuleAsyncOptions): DynamicModule {
    return {
      module: WimseModule,
      global: options.global ?? true,
      imports: options.imports ?? [],
      providers: [...asyncOptionsProviders(options), ...(options.extraProviders ?? []), ...SHARED_PROVIDERS],
      exports: EXPORTS,
    };
  }
}
