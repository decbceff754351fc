// The benchmark's one unary method, without protobuf: request and response are raw bytes, so
// the figures measure transport and authentication, not message encoding.
export const TRUST_DOMAIN = 'example.org';
export const AUTHORITY = 'bench.example.org';
export const METHOD = '/bench.Bench/Echo';

const bytes = (value) => value;
export const BENCH_SERVICE = {
  Echo: {
    path: METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};
