import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import type { Properties } from '../meta/promotion-records.ts';
import {
  type PropertiesService,
  type PropertyTarget,
  parseProperties,
} from '../promote/properties-service.ts';
import { parseSearchQuery, type SearchService } from '../promote/search-service.ts';
import { auditChange, requireAction } from './api-auth.ts';
import { DigestString } from './api-schema.ts';
import type { ImageMatch, ImageRoute } from './image-routes.ts';

const SUFFIX = '/manifests/:reference/properties';
const TAGS = ['properties'];
const Reference = z.object({ reference: z.string().describe('a digest, or a tag') });
const PropertiesReply = z.object({
  repository: z.string(),
  image: z.string(),
  digest: DigestString,
  properties: z.record(z.string(), z.array(z.string())),
});
/** Values are checked by parseProperties (properties-service.ts), which says which key is wrong. */
const SEND_PROPERTIES = 'send {"properties": {"qa.status": "passed", "jira": ["APP-1", "APP-2"]}}';
const PropertiesBody = z.looseObject(
  {
    properties: z
      .record(z.string(), z.unknown(), { error: SEND_PROPERTIES })
      .describe('key: a string or a list of strings; in a PATCH, null or [] removes the key'),
  },
  { error: SEND_PROPERTIES },
);

/**
 * Properties of a manifest, under `/api/v1/repositories/:key/images/<image>/manifests/<digest>/properties`
 * (dispatched by image-routes.ts; a tag works in place of the digest):
 * - `GET` (read): `{repository, image, digest, properties: {key: [values…]}}`;
 * - `PUT {properties}` (annotate): replaces every property;
 * - `PATCH {properties}` (annotate): sets the given keys, `null` or `[]` removes one;
 * - `DELETE ?key=a&key=b` (annotate): removes those keys, or every key without `key`.
 * Every change is audited as `property.set` / `property.delete`.
 */
export function propertyRoutes(access: ApiAccess, properties: PropertiesService): ImageRoute[] {
  const target = async (request: FastifyRequest, match: ImageMatch, action: 'read' | 'annotate') => {
    requireAction(request, access, action, match.repository, match.image);
    return properties.target(match.repository, match.image, match.params.reference as string);
  };
  const reply = async (t: PropertyTarget) => ({ ...t, properties: await properties.get(t) });
  const audit = (
    request: FastifyRequest,
    action: string,
    t: PropertyTarget,
    detail: Record<string, unknown>,
  ) =>
    auditChange(request, access, {
      action,
      repository: t.repository,
      target: `${t.repository}/${t.image}@${t.digest}`,
      detail,
    });

  return [
    {
      method: 'GET',
      suffix: SUFFIX,
      schema: {
        summary: "A manifest's properties",
        tags: TAGS,
        params: Reference,
        response: { 200: PropertiesReply },
      },
      handle: async (request, _reply, match) => reply(await target(request, match, 'read')),
    },
    {
      method: 'PUT',
      suffix: SUFFIX,
      schema: {
        summary: 'Replace every property of a manifest',
        tags: TAGS,
        params: Reference,
        body: PropertiesBody,
        response: { 200: PropertiesReply },
      },
      async handle(request, _reply, match) {
        const t = await target(request, match, 'annotate');
        const values = parseProperties(propertiesOf(request.body), { removals: false });
        const { removed } = await properties.replace(t, values);
        audit(request, 'property.set', t, { replace: true, set: values, removed });
        return reply(t);
      },
    },
    {
      method: 'PATCH',
      suffix: SUFFIX,
      schema: {
        summary: 'Set the given properties of a manifest; null or [] removes one',
        tags: TAGS,
        params: Reference,
        body: PropertiesBody,
        response: { 200: PropertiesReply },
      },
      async handle(request, _reply, match) {
        const t = await target(request, match, 'annotate');
        const changes = parseProperties(propertiesOf(request.body), { removals: true });
        await properties.update(t, changes);
        const set: Properties = {};
        const removed: string[] = [];
        for (const [k, v] of Object.entries(changes)) {
          if (v.length === 0) removed.push(k);
          else set[k] = v;
        }
        if (Object.keys(set).length > 0) audit(request, 'property.set', t, { set });
        if (removed.length > 0) audit(request, 'property.delete', t, { keys: removed });
        return reply(t);
      },
    },
    {
      method: 'DELETE',
      suffix: SUFFIX,
      schema: {
        summary: 'Remove the properties named by key (repeatable), or all of them',
        tags: TAGS,
        params: Reference,
        querystring: z.object({ key: z.union([z.string(), z.array(z.string())]).optional() }),
        response: { 200: PropertiesReply },
      },
      async handle(request, _reply, match) {
        const t = await target(request, match, 'annotate');
        const raw = (request.query as Record<string, string | string[] | undefined>).key;
        const keys = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
        const removed = await properties.remove(t, keys);
        audit(request, 'property.delete', t, { keys: keys ?? 'all', removed });
        return reply(t);
      },
    },
  ];
}

function propertiesOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('properties' in body)) {
    throw badRequest('send {"properties": {"qa.status": "passed", "jira": ["APP-1", "APP-2"]}}');
  }
  const extra = Object.keys(body).filter((k) => k !== 'properties');
  if (extra.length > 0) throw badRequest(`unknown field ${extra.join(', ')}; send {"properties": {…}}`);
  return (body as { properties: unknown }).properties;
}

/**
 * `GET /api/v1/search?property=k=v&label=k=v&annotation=k=v&name=&repository=&limit=`: manifests
 * meeting every condition, within what the caller may read.
 */
export async function searchApi(app: FastifyInstance, search: SearchService): Promise<void> {
  const searchSchema = {
    summary: 'Manifests meeting every condition, within what the caller may read',
    tags: ['properties'],
    // Repeated and `k=v` parameters are read by parseSearchQuery (search-service.ts).
    querystring: z.looseObject({
      property: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .describe('k=v or k; repeatable'),
      label: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .describe('k=v; repeatable'),
      annotation: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .describe('k=v; repeatable'),
      name: z.string().optional().describe('part of repository/image'),
      digest: z.string().optional().describe('start of a digest'),
      tag: z.string().optional(),
      repository: z.string().optional(),
      limit: z.string().optional(),
    }),
    response: {
      200: z.object({
        results: z.array(
          z.object({
            repository: z.string(),
            image: z.string(),
            digest: DigestString,
            tags: z.array(z.string()),
            properties: z.record(z.string(), z.array(z.string())),
          }),
        ),
        truncated: z.boolean(),
      }),
    },
  };
  app.get('/search', { schema: searchSchema }, async (request) => {
    const query = parseSearchQuery(request.query as Record<string, string | string[] | undefined>);
    return search.search(request.principal, query);
  });
}
