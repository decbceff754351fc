import { Metadata } from '@grpc/grpc-js';

/** Plain key/value trailers as grpc-js `Metadata`. */
export function trailersFor(values: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key, value);
  return metadata;
}
