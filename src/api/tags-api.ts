import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { isTag } from '../oci/names.ts';
import type { TagService } from '../promote/tag-service.ts';
import { auditChange, requireAction } from './api-auth.ts';
import { DigestString, strictBody, Timestamp } from './api-schema.ts';
import type { ImageRoute } from './image-routes.ts';

const TagParam = z.object({ tag: z.string() });

/**
 * Tag history and rollback, under `/api/v1/repositories/:key/images/<image>/tags/<tag>/…`
 * (dispatched by image-routes.ts), on local repositories:
 * - `GET …/history?limit=` (read): the tag's moves, newest first;
 * - `POST …/rollback` `{to?: digest, steps?: n}` (delete: it moves a tag): points a mutable tag
 *   back at an earlier digest, one move back by default.
 */
export function tagRoutes(access: ApiAccess, tags: TagService): ImageRoute[] {
  return [
    {
      method: 'GET',
      suffix: '/tags/:tag/history',
      schema: {
        summary: "A tag's moves, newest first",
        tags: ['tags'],
        params: TagParam,
        querystring: z.object({ limit: z.string().optional().describe('1 to 1000, default 50') }),
        response: {
          200: z.object({
            repository: z.string(),
            image: z.string(),
            tag: z.string(),
            events: z.array(
              z.object({
                oldDigest: DigestString.nullable(),
                newDigest: DigestString.nullable(),
                actor: z.string(),
                cause: z.enum(['push', 'delete', 'promotion', 'floating', 'rollback', 'cache', 'retention']),
                at: Timestamp,
              }),
            ),
          }),
        },
      },
      async handle(request, _reply, { repository, image, params }) {
        const tag = tagParam(params.tag);
        requireAction(request, access, 'read', repository, image);
        const limit = limitParam((request.query as Record<string, string | undefined>).limit);
        const events = await tags.history(repository, image, tag, limit);
        return {
          repository,
          image,
          tag,
          events: events.map((e) => ({
            oldDigest: e.oldDigest ?? null,
            newDigest: e.newDigest ?? null,
            actor: e.actor,
            cause: e.cause,
            at: e.at,
          })),
        };
      },
    },
    {
      method: 'POST',
      suffix: '/tags/:tag/rollback',
      schema: {
        summary: 'Point a mutable tag back at an earlier digest (one move back by default)',
        tags: ['tags'],
        params: TagParam,
        body: strictBody(
          {
            to: z
              .string({ error: 'to must be a digest like sha256:…' })
              .optional()
              .describe('the digest to go back to'),
            steps: z
              .number({ error: 'steps must be a whole number of moves back' })
              .optional()
              .describe('how many moves back'),
          },
          {
            send: 'send {"steps": 1} or {"to": "sha256:…"} (or nothing: one step back)',
            unknown: (keys) => `${keys[0]} is not a rollback option (use to or steps)`,
          },
        ).optional(),
        response: {
          200: z.object({ tag: z.string(), from: DigestString.nullable(), to: DigestString }),
        },
      },
      async handle(request, _reply, { repository, image, params }) {
        const tag = tagParam(params.tag);
        requireAction(request, access, 'delete', repository, image);
        const body = request.body ?? {};
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw badRequest('send {"steps": 1} or {"to": "sha256:…"} (or nothing: one step back)');
        const { to, steps, ...rest } = body as Record<string, unknown>;
        const unknown = Object.keys(rest)[0];
        if (unknown !== undefined) throw badRequest(`${unknown} is not a rollback option (use to or steps)`);
        if (to !== undefined && typeof to !== 'string') throw badRequest('to must be a digest like sha256:…');
        if (steps !== undefined && typeof steps !== 'number')
          throw badRequest('steps must be a whole number of moves back');
        const result = await tags.rollback(
          repository,
          image,
          tag,
          { ...(to === undefined ? {} : { to }), ...(steps === undefined ? {} : { steps }) },
          request.principal.name,
        );
        auditChange(request, access, {
          action: 'tag.rollback',
          repository,
          target: `${image}:${tag}`,
          detail: { from: result.from ?? null, to: result.to },
        });
        return { tag: result.tag, from: result.from ?? null, to: result.to };
      },
    },
  ];
}

function tagParam(value: string | undefined): string {
  if (value === undefined || !isTag(value))
    throw badRequest(
      `tag ${JSON.stringify(value)} is invalid: up to 128 of [A-Za-z0-9_.-], not starting with . or -`,
    );
  return value;
}

function limitParam(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw badRequest('limit must be a whole number from 1 to 1000');
  return n;
}
