import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { quotaOf, retentionOf } from '../lifecycle/lifecycle-settings.ts';
import type { RetentionService } from '../lifecycle/retention-service.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { auditChange, requireAction, requireSignedIn } from './api-auth.ts';
import { DigestString, field } from './api-schema.ts';

const RetentionItem = z.object({
  image: z.string(),
  tag: z.string().optional(),
  digest: DigestString,
  action: z.enum(['remove', 'keep']),
  rule: z.string().describe('the rule or protection that decided, in words'),
});

const evaluateSchema = {
  summary: "Evaluate a repository's retention rules: a dry run (default), or remove what they decide",
  tags: ['lifecycle'],
  params: z.object({ key: z.string() }),
  // Validated in the handler, which answers in retention's own words; documented here.
  body: z
    .looseObject({
      dryRun: field.boolean('dryRun').optional(),
      rules: z.array(z.record(z.string(), z.unknown())).optional().describe('unsaved rules to preview'),
    })
    .optional(),
  response: {
    200: z.object({
      repository: z.string(),
      dryRun: z.boolean(),
      items: z.array(RetentionItem),
      removed: z.object({ tags: z.number().int(), manifests: z.number().int() }),
      skipped: z.number().int(),
    }),
  },
};

const Bytes = z.object({ logicalBytes: z.number(), uniqueBytes: z.number() });
const usageSchema = {
  summary: 'Logical and unique bytes per repository the caller reads, with quota state, and in total',
  tags: ['lifecycle'],
  response: {
    200: z.object({
      repositories: z.array(
        Bytes.extend({
          key: z.string(),
          kind: z.string(),
          quota: z
            .object({ bytes: z.number(), warnAt: z.number(), state: z.enum(['ok', 'warning', 'exceeded']) })
            .nullable(),
          retention: z.record(z.string(), z.unknown()).nullable(),
        }),
      ),
      total: Bytes,
    }),
  },
};

/**
 * Retention and usage:
 * - `POST /retention/:key/evaluate` `{dryRun?: boolean, rules?: [...]}` (manage on the
 *   repository): evaluates the repository's retention rules and, unless `dryRun` (the default
 *   is a dry run: removing must be asked for), removes what they decide. `rules` previews
 *   unsaved rules (dry runs only). Replies `{repository, dryRun, items: [{image, tag?, digest,
 *   action, rule}], removed: {tags, manifests}, skipped}`. Runs that remove are audited, and so
 *   is each removal.
 * - `GET /usage` (signed in): logical and unique bytes per local and remote repository the
 *   caller may read as a whole, with its quota state, and the total over them.
 */
export async function lifecycleApi(
  app: FastifyInstance,
  deps: { access: ApiAccess; repos: RepositoryService; meta: MetadataStore; retention: RetentionService },
): Promise<void> {
  const { access, repos, meta, retention } = deps;

  app.post<{ Params: { key: string } }>(
    '/retention/:key/evaluate',
    { schema: evaluateSchema },
    async (request) => {
      const body = request.body ?? {};
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw badRequest('send {"dryRun": true} to preview, {"dryRun": false} to remove');
      const { dryRun = true, rules, ...rest } = body as Record<string, unknown>;
      const unknown = Object.keys(rest)[0];
      if (unknown !== undefined) throw badRequest(`${unknown} is not a retention option (use dryRun, rules)`);
      if (typeof dryRun !== 'boolean') throw badRequest('dryRun must be true (preview) or false (remove)');
      const key = request.params.key;
      requireAction(request, access, 'manage', key);
      const run = await retention.run(key, {
        dryRun,
        actor: request.principal.name,
        address: request.ip,
        ...(rules === undefined ? {} : { rules }),
      });
      if (!dryRun)
        auditChange(request, access, {
          action: 'retention.run',
          repository: key,
          target: key,
          detail: { removed: run.removed, skipped: run.skipped },
        });
      return run;
    },
  );

  app.get('/usage', { schema: usageSchema }, async (request) => {
    const principal = requireSignedIn(request);
    const policy = access.identity.policy;
    const shown = repos
      .list()
      .filter((r) => r.kind !== 'virtual' && policy.allows(principal, 'read', r.key))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const figures = await meta.lifecycle.usage(shown.map((r) => r.key));
    return {
      repositories: shown.map((r) => {
        const f = figures.repositories.get(r.key) ?? { logicalBytes: 0, uniqueBytes: 0 };
        const quota = quotaOf(r);
        return {
          key: r.key,
          kind: r.kind,
          logicalBytes: f.logicalBytes,
          uniqueBytes: f.uniqueBytes,
          quota: quota
            ? {
                bytes: quota.bytes,
                warnAt: quota.warnAt,
                state:
                  f.uniqueBytes > quota.bytes
                    ? 'exceeded'
                    : f.uniqueBytes >= quota.bytes * quota.warnAt
                      ? 'warning'
                      : 'ok',
              }
            : null,
          retention: retentionOf(r) ?? null,
        };
      }),
      total: figures.total,
    };
  });
}
