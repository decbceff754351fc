// Loads echo.proto once for the server and the clients.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const definition = protoLoader.loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)), {
  keepCase: true,
});
export const { Echo } = grpc.loadPackageDefinition(definition).echo;
