import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../domain/errors.ts';
import { checkName } from '../oci/names.ts';

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
  handle(request: FastifyRequest, reply: FastifyReply, match: ImageMatch): Promise<unknown>;
}

const PREFIX = '/repositories/:key/images/*';

/** Registers the wildcard route of each method used by `routes`. Call once with every image route. */
export function imageRoutes(app: FastifyInstance, routes: readonly ImageRoute[]): void {
  const compiled = routes.map((route) => ({ route, ...compile(route.suffix) }));
  const methods = [...new Set(routes.map((r) => r.method))];
  for (const method of methods) {
    const mine = compiled.filter((c) => c.route.method === method);
    app.route<{ Params: { key: string; '*': string } }>({
      method,
      url: PREFIX,
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
          return route.handle(request, reply, { repository: request.params.key, image, params });
        }
        throw notFound(
          `no ${method} endpoint at images/${rest}; under images/<image> there are: ${mine.map((c) => `${method} ${c.route.suffix}`).join(', ')}`,
        );
      },
    });
  }
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
