import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * The gRPC metadata every Workload API request carries (SPIFFE Workload Endpoint §6):
 * servers refuse requests without it with `INVALID_ARGUMENT`, which stops a server-side
 * request forgery from reaching the agent.
 */
export const WORKLOAD_API_SECURITY_HEADER = Object.freeze({ key: 'workload.spiffe.io', value: 'true' });

// This module sits one level below the package root in `src/` and in `dist/` (the CJS build
// gets `import.meta.url` from tsup's shims).
const moduleDirectory = dirname(fileURLToPath(import.meta.url));

/** Absolute path of the Workload API `.proto` file shipped with this package. */
export const WORKLOAD_API_PROTO_PATH = join(moduleDirectory, '..', 'proto', 'workload.proto');

/** `google.protobuf.Value` as `@grpc/proto-loader` represents it (`oneofs: true`). */
export interface ProtoValue {
  kind?: string;
  nullValue?: string | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

/** `google.protobuf.Struct` as `@grpc/proto-loader` represents it. */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export interface JwtSvidRequestMessage {
  audience: string[];
  spiffeId: string;
}
export interface JwtSvidMessage {
  spiffeId: string;
  svid: string;
  hint: string;
}
export interface JwtSvidResponseMessage {
  svids: JwtSvidMessage[];
}
export type JwtBundlesRequestMessage = Record<string, never>;
export interface JwtBundlesResponseMessage {
  bundles: Record<string, Uint8Array>;
}
export interface ValidateJwtSvidRequestMessage {
  audience: string;
  svid: string;
}
export interface ValidateJwtSvidResponseMessage {
  spiffeId: string;
  claims: ProtoStruct | null;
}
export interface WitSvidRequestMessage {
  spiffeId: string;
}
export interface WitSvidMessage {
  spiffeId: string;
  witSvid: string;
  witSvidKey: string;
  hint: string;
}
export interface WitSvidResponseMessage {
  svids: WitSvidMessage[];
}
export type WitBundlesRequestMessage = Record<string, never>;
export interface WitBundlesResponseMessage {
  bundles: Record<string, string>;
}

/** The `SpiffeWorkloadAPI` service, typed by method (JWT-SVID and WIT-SVID profiles). */
export interface WorkloadApiService extends ServiceDefinition {
  FetchJWTSVID: MethodDefinition<JwtSvidRequestMessage, JwtSvidResponseMessage>;
  FetchJWTBundles: MethodDefinition<JwtBundlesRequestMessage, JwtBundlesResponseMessage>;
  ValidateJWTSVID: MethodDefinition<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage>;
  FetchWITSVID: MethodDefinition<WitSvidRequestMessage, WitSvidResponseMessage>;
  FetchWITBundles: MethodDefinition<WitBundlesRequestMessage, WitBundlesResponseMessage>;
}

let loaded: WorkloadApiService | undefined;

/**
 * The `SpiffeWorkloadAPI` service definition loaded from {@link WORKLOAD_API_PROTO_PATH}
 * (loaded once). Field names are camelCase, `bytes` are Buffers, empty fields have their
 * proto3 defaults. Also what a server implementation (such as the fake one in
 * `@wimse-auth/testing/workload-api`) registers.
 */
export function workloadApiService(): WorkloadApiService {
  if (loaded === undefined) {
    const definition = loadSync(WORKLOAD_API_PROTO_PATH, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    loaded = definition.SpiffeWorkloadAPI as unknown as WorkloadApiService;
  }
  return loaded;
}

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };

function valueToJson(value: ProtoValue | undefined): Json {
  switch (value?.kind) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}

/** A `google.protobuf.Struct` as plain JSON (ValidateJWTSVID's claims). */
export function structToJson(struct: ProtoStruct | null | undefined): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, value] of Object.entries(struct?.fields ?? {})) {
    // Claims come from the agent, but a `__proto__` member must still not become a prototype.
    Object.defineProperty(out, name, { value: valueToJson(value), enumerable: true, writable: true });
  }
  return out;
}

function jsonToValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  if (typeof value === 'object') return { structValue: jsonToStruct(value as Record<string, unknown>) };
  throw new TypeError(`cannot encode a ${typeof value} as google.protobuf.Value`);
}

/** Plain JSON as a `google.protobuf.Struct`, for a server answering ValidateJWTSVID. */
export function jsonToStruct(object: Readonly<Record<string, unknown>>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [name, value] of Object.entries(object)) fields[name] = jsonToValue(value);
  return { fields };
}
