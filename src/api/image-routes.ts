import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../domain/errors.ts';
import { checkName } from '../oci/names.ts';
import { checkResponse, type OperationSchema, openApiOperation, parseRequestPart } from './api-schema.ts';

/** What an image route sees: the repository key, the image name (slashes and all), the suffix's parameters. */
export interface ImageMatch {
  repository: string;
  image: string;
  params: Record<string, string>;
}

/**
 * One endpoint under `/repositories/:key/images/<image>`: image names contain slashes, so one
 * wildcard route per method takes every such URL and dispatches on what follows the image name.
 * `suffix` is that remainder with `:name` parameters (one path segment each), e.g.
 * `/tags/:tag/history` or `/manifests/:digest/properties`.
 */
export interface ImageRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  suffix: string;
  /**
   * The same schema a route of its own has (api/api-schema.ts): `params` are the suffix's, the
   * request is validated with it before `handle`, and the OpenAPI document lists the route.
   */
  schema: ImageRouteSchema;
  handle(request: FastifyRequest, reply: FastifyReply, match: ImageMatch): Promise<unknown>;
}

export type ImageRouteSchema = OperationSchema;

const PREFIX = '/repositories/:key/images/*';

/**
 * Registers the wildcard route of each method used by `routes`. Call once with every image route.
 * The wildcard routes are hidden from the OpenAPI document, which lists `imageRoutePaths` instead.
 */
export function imageRoutes(
  app: FastifyInstance,
  routes: readonly ImageRoute[],
  options: { validateResponses: boolean },
): void {
  const compiled = routes.map((route) => ({ route, ...compile(route.suffix) }));
  const methods = [...new Set(routes.map((r) => r.method))];
  for (const method of methods) {
    const mine = compiled.filter((c) => c.route.method === method);
    app.route<{ Params: { key: string; '*': string } }>({
      method,
      url: PREFIX,
      schema: { hide: true },
      handler: async (request, reply) => {
        const rest = request.params['*'];
        for (const { route, pattern, names } of mine) {
          const m = pattern.exec(rest);
          if (!m) continue;
          const image = m[1] as string;
          try {
            checkName(image);
          } catch (e) {
            throw badRequest(`image name ${JSON.stringify(image)} is invalid: ${(e as Error).message}`);
          }
          const params = Object.fromEntries(names.map((n, i) => [n, m[i + 2] as string]));
          const { schema } = route;
          parseRequestPart(schema.params, params, 'params');
          parseRequestPart(schema.querystring, request.query, 'querystring');
          parseRequestPart(schema.body, request.body, 'body');
          const result = await route.handle(request, reply, {
            repository: request.params.key,
            image,
            params,
          });
          const responseSchema = schema.response[reply.statusCode];
          if (options.validateResponses && responseSchema && !reply.sent)
            checkResponse(responseSchema, result, `${method} images/…${route.suffix} ${reply.statusCode}`);
          return result;
        }
        throw notFound(
          `no ${method} endpoint at images/${rest}; under images/<image> there are: ${mine.map((c) => `${method} ${c.route.suffix}`).join(', ')}`,
        );
      },
    });
  }
}

/**
 * The OpenAPI path items of the image routes, as `/api/v1/repositories/{key}/images/{image}/…`
 * (the image name may contain slashes, which OpenAPI path parameters cannot say; the
 * description does).
 */
export function imageRoutePaths(routes: readonly ImageRoute[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const suffix = route.suffix.replace(/:([A-Za-z]+)/g, '{$1}');
    const path = `/api/v1/repositories/{key}/images/{image}${suffix}`;
    const prefix = [
      { name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'repository key' },
      {
        name: 'image',
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: 'image name; it may contain slashes, sent as they are (library/nginx)',
      },
    ];
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: openApiOperation(route.schema, prefix) };
  }
  return paths;
}

/** `/tags/:tag/history` → /^(.+)\/tags\/([^/]+)\/history$/ with names ['tag']. */
function compile(suffix: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = suffix
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^(.+)${source}$`), names };
}
