import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { quotaOf, retentionOf } from '../lifecycle/lifecycle-settings.ts';
import type { RetentionService } from '../lifecycle/retention-service.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { auditChange, requireAction, requireSignedIn } from './api-auth.ts';

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

  app.post<{ Params: { key: string } }>('/retention/:key/evaluate', async (request) => {
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
  });

  app.get('/usage', async (request) => {
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
