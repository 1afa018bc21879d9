import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { jsonSchemaTransform, validatorCompiler } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';
import { badRequest } from '../domain/errors.ts';
import { ACTIONS } from '../meta/identity-records.ts';

/**
 * The schemas of the management API are zod schemas on each route (`schema: {params,
 * querystring, body, response}`), and they are the only copy: fastify validates requests with
 * them, the OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from them, and under
 * `validateResponses` every JSON response is checked against the schema of its status.
 */
export interface ApiDocsOptions {
  /** Check responses against their schemas; a mismatch is logged and answered 500. */
  validateResponses: boolean;
  /** Operations fastify cannot see as routes of their own (the image routes' wildcard dispatch). */
  extraPaths: () => Record<string, Record<string, unknown>>;
}

/** A management-API problem document (api/problem-reply.ts); problems may carry more fields. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
});

/** What a route's `schema` says about one request: each part optional. */
export interface RequestSchema {
  params?: ZodType;
  querystring?: ZodType;
  body?: ZodType;
}

/**
 * Sets up validation and documentation in the `/api/v1` scope. Call before registering routes:
 * @fastify/swagger only sees routes added after it.
 */
export async function apiDocs(app: FastifyInstance, options: ApiDocsOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler as FastifySchemaCompiler<unknown>);
  // Fastify's default formatter writes "body/name must be…"; people get "field name: …".
  app.setSchemaErrorFormatter((errors, part) => badRequest(issuesMessage(part, errors)));
  app.setSerializerCompiler<ZodType>(({ schema, method, url, httpStatus }) => (data) => {
    if (options.validateResponses) checkResponse(schema, data, `${method} ${url} ${httpStatus}`);
    return JSON.stringify(data);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gantry management API',
        version: '1',
        description:
          'Repositories, users, tokens, promotion, properties, builds and audit. Errors are RFC 9457 problem documents.',
      },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'user name and password or API token' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API token or registry token' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }, {}],
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const { openapiObject } = document;
      return withProblems({ ...openapiObject, paths: { ...openapiObject.paths, ...options.extraPaths() } });
    },
  });
  // The browsable page; its assets ship in the package, so it works without the internet.
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Every operation answers errors as problem documents: said once here, not on every route. */
function withProblems<T extends { paths?: Record<string, Record<string, unknown> | undefined> }>(doc: T): T {
  const problem = {
    description: 'An error, as an RFC 9457 problem document',
    content: { 'application/problem+json': { schema: toJsonSchema(Problem, 'output') } },
  };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item ?? {})) {
      const op = operation as { responses?: Record<string, unknown> };
      op.responses = { ...op.responses, default: problem };
    }
  }
  return doc;
}

/** A zod schema as JSON Schema 2020-12 (the dialect of OpenAPI 3.1), inputs before defaults. */
export function toJsonSchema(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return json;
}

/** Throws when `data` does not match `schema`; the error handler logs it and answers 500. */
export function checkResponse(schema: ZodType, data: unknown, where: string): void {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new Error(
      `response of ${where} does not match its documented schema: ${z.prettifyError(result.error)}`,
    );
  }
}

/** Validates one part of a request the way fastify does for routes of their own. */
export function parseRequestPart<T>(
  schema: ZodType<T> | undefined,
  value: unknown,
  part: string,
): T | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(
    issuesMessage(
      part,
      result.error.issues.map((i) => ({ instancePath: `/${i.path.join('/')}`, message: i.message })),
    ),
  );
}

const PART_NAMES: Record<string, string> = {
  body: 'field',
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
};

/** "field to: must be a digest; query parameter limit: …": where each problem is, then what it is. */
function issuesMessage(
  part: string,
  issues: readonly { instancePath: string; message?: string | undefined }[],
): string {
  return issues
    .map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const message = issue.message ?? 'is invalid';
      if (path === '') return part === 'body' ? `request body: ${message}` : message;
      return `${PART_NAMES[part] ?? part} ${path}: ${message}`;
    })
    .join('; ');
}

// Pieces many routes share.

/** An ISO 8601 time as the API writes them. */
export const Timestamp = z.string().describe('ISO 8601 time');
export const DigestString = z.string().describe('content digest, sha256:<64 hex>');
export const ActionName = z.enum(ACTIONS);
/** One gate's verdict, in promotions and their dry runs. */
export const GateResult = z.object({
  gate: z.string(),
  type: z.string(),
  passed: z.boolean(),
  reason: z.string(),
  approvers: z.array(z.string()).optional(),
});

/** 204: no body. */
export const NoContent = z.null().describe('no content');

/**
 * A JSON object body with exactly these fields. What is not such an object is answered with
 * `send` (an example a person can copy); unknown fields with `unknown`, in the route's words.
 */
export function strictBody<S extends z.ZodRawShape>(
  shape: S,
  words: { send: string; unknown?: (keys: readonly string[]) => string },
) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? (words.unknown?.(issue.keys) ?? `unknown field ${issue.keys.join(', ')}`)
        : words.send,
  });
}

/** Field types answered with the words the domain parsers use ("email must be a string"). */
export const field = {
  string: (name: string) => z.string({ error: `${name} must be a string` }),
  boolean: (name: string) => z.boolean({ error: `${name} must be true or false` }),
  strings: (name: string) =>
    z.array(z.string({ error: `${name} must be a list of strings` }), {
      error: `${name} must be a list of strings`,
    }),
};

/**
 * A JSON object body whose fields a domain parser reads after this: unknown fields are kept for
 * it (it names them); anything but an object is answered with `send a JSON object like <example>`.
 */
export function looseBody<S extends z.ZodRawShape>(example: string, shape: S) {
  return z.looseObject(shape, { error: `send a JSON object like ${example}` });
}

/** A route's schema where fastify does not see it as one (image routes, the compat endpoint). */
export interface OperationSchema {
  summary: string;
  description?: string;
  tags: string[];
  params?: ZodType;
  querystring?: ZodType;
  body?: ZodType;
  /** By status code. */
  response: Record<number, ZodType>;
}

/** The OpenAPI operation of such a schema; `parameters` come first (those of a path prefix). */
export function openApiOperation(
  schema: OperationSchema,
  parameters: readonly Record<string, unknown>[] = [],
): Record<string, unknown> {
  const { summary, description, tags, params, querystring, body, response } = schema;
  const responses = Object.fromEntries(
    Object.entries(response).map(([status, s]) => [
      status,
      {
        description: 'Default Response',
        content: { 'application/json': { schema: toJsonSchema(s, 'output') } },
      },
    ]),
  );
  return {
    summary,
    ...(description ? { description } : {}),
    tags,
    parameters: [...parameters, ...parameterList(params, 'path'), ...parameterList(querystring, 'query')],
    ...(body
      ? { requestBody: { content: { 'application/json': { schema: toJsonSchema(body, 'input') } } } }
      : {}),
    responses,
  };
}

function parameterList(schema: ZodType | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return [];
  const json = toJsonSchema(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}
