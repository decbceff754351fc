import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { WimseHttpException } from './exception.js';
import { setResponseHeaders } from './http.js';

interface FastifyReplyLike {
  raw: unknown;
  code(status: number): unknown;
  send(body: string): unknown;
}

interface NodeResponseLike {
  statusCode: number;
  headersSent?: boolean;
  end(body: string): unknown;
}

/**
 * Optional exception filter that answers a {@link WimseHttpException} exactly as the core's
 * `errorResponse` renders it, including `Content-Type: application/problem+json` (Nest's
 * default filter answers `application/json`). Register with
 * `{ provide: APP_FILTER, useClass: WimseExceptionFilter }` or `app.useGlobalFilters(...)`.
 */
@Catch(WimseHttpException)
export class WimseExceptionFilter implements ExceptionFilter<WimseHttpException> {
  catch(exception: WimseHttpException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<unknown>();
    const body = JSON.stringify(exception.getResponse());
    const status = exception.getStatus();
    const fastify = response as FastifyReplyLike;
    if (typeof fastify.code === 'function' && fastify.raw !== undefined) {
      fastify.code(status);
      setResponseHeaders(response, exception.headers);
      fastify.send(body);
      return;
    }
    const node = response as NodeResponseLike;
    if (node.headersSent === true) return;
    node.statusCode = status;
    setResponseHeaders(response, exception.headers);
    node.end(body);
  }
}
