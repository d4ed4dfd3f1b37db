import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The JSON body of every error answer: what went wrong and, for bad input, which field. */
export interface ErrorBody {
  error: string;
  field?: string;
}

/** Sends a 4xx error naming the offending field. */
export function badRequest(reply: FastifyReply, field: string, error: string, status = 400): FastifyReply {
  return reply.code(status).send({ error, field } satisfies ErrorBody);
}

interface ValidationIssue {
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** Names the field that a schema validation error is about. */
export function validationField(context: string | undefined, issue: ValidationIssue | undefined): string {
  const params = issue?.params ?? {};
  const extra = params.missingProperty ?? params.additionalProperty;
  const path = (issue?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const name = typeof extra === 'string' ? (path === '' ? extra : `${path}.${extra}`) : path;
  return name !== '' ? name : (context ?? 'body');
}

const BODY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed JSON body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty JSON body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body exceeds the size limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length does not match the body',
};

/** Maps framework and handler errors to JSON answers; 5xx details stay in the log. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) {
    const issue = error.validation[0] as ValidationIssue | undefined;
    const field = validationField(error.validationContext, issue);
    return badRequest(reply, field, `invalid ${field}: ${issue?.message ?? 'failed validation'}`);
  }
  const bodyError = BODY_ERRORS[error.code];
  if (bodyError !== undefined) return badRequest(reply, 'body', bodyError, error.statusCode ?? 400);
  const status = error.statusCode ?? 500;
  if (status < 500) return reply.code(status).send({ error: error.message } satisfies ErrorBody);
  request.log.error({ err: error }, 'request failed');
  return reply.code(500).send({ error: 'internal error' } satisfies ErrorBody);
}
