import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { PromotionQuery, PromotionRecord } from '../meta/promotion-records.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { approvalRefusal } from '../promote/approval-eligibility.ts';
import type { ChecklistService } from '../promote/checklist-service.ts';
import { parsePromotionRequest } from '../promote/promotion-request.ts';
import type { PromotionService } from '../promote/promotion-service.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { auditChange, requireAction, requireSignedIn } from './api-auth.ts';
import type { ImageRoute } from './image-routes.ts';

export interface PromotionDeps {
  meta: MetadataStore;
  repos: RepositoryService;
  promotions: PromotionService;
  checklist: ChecklistService;
}

type HistoryParams = Partial<Record<'image' | 'digest' | 'repository' | 'limit' | 'before', string>>;

/**
 * `/api/v1/promotions` (promote, or dry-run; the history), `/api/v1/approvals` (approve a digest
 * for a target repository; list approvals; withdraw one).
 */
export async function promotionsApi(
  app: FastifyInstance,
  access: ApiAccess,
  deps: PromotionDeps,
): Promise<void> {
  app.post('/promotions', async (request, reply) => {
    const result = await deps.promotions.promote(
      request.principal,
      parsePromotionRequest(request.body),
      request.ip,
    );
    if (!result.dryRun) reply.code(201);
    return result;
  });

  app.get<{ Querystring: HistoryParams }>('/promotions', async (request) => {
    const q = request.query;
    const query: PromotionQuery = { limit: boundedLimit(q.limit) };
    if (q.digest !== undefined) query.digest = digestParam(q.digest);
    if (q.image !== undefined) query.image = q.image;
    if (q.repository !== undefined) query.repository = q.repository;
    if (q.before !== undefined) query.beforeId = Number(q.before);
    const policy = access.identity.policy;
    // Where the content is stored: a virtual repository is an address, never a grant, so whoever
    // reads it through one may read it there too.
    const reads = (repository: string, image: string) =>
      policy.allows(request.principal, 'read', repository, image);
    // Both ends: a customer reading production must not learn of promotions refused into it
    // from stages they cannot see, nor of what left a stage they can read for one they cannot.
    const readable = (r: PromotionRecord) =>
      reads(r.targetRepository, r.targetImage) && reads(r.sourceRepository, r.sourceImage);
    const promotions = (await deps.meta.promotions.list(query)).filter(readable);
    return { promotions };
  });

  app.post('/approvals', async (request, reply) => {
    const p = requireSignedIn(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body.repository !== 'string' || typeof body.digest !== 'string') {
      throw badRequest('send {"repository": "<target repository>", "digest": "sha256:…", "comment": "…"}');
    }
    const digest = digestParam(body.digest);
    const repo = deps.repos.get(body.repository);
    const policy = access.identity.policy;
    if (!repo || !policy.readsSomethingIn(p, repo.key))
      throw notFound(`repository ${body.repository} does not exist or you may not read it`);
    if (repo.kind !== 'local')
      throw badRequest(
        `${repo.key} is a ${repo.kind} repository; approvals are for the local repository a promotion goes into`,
      );
    // Held somewhere the caller may read, or it is as if it were held nowhere.
    const held = (await deps.meta.promotions.locate(digest)).some((l) =>
      policy.allows(p, 'read', l.repository, l.image),
    );
    if (!held) throw notFound(`no repository you may read holds ${digest}`);
    const repository = approvalTarget(access, p, repo);
    const record = {
      digest,
      repository: repository.key,
      approver: p.name,
      comment: typeof body.comment === 'string' ? body.comment : '',
      at: new Date().toISOString(),
    };
    await deps.meta.approvals.add(record);
    auditChange(request, access, {
      action: 'approval',
      repository: record.repository,
      target: digest,
      detail: { comment: record.comment },
    });
    reply.code(201);
    return record;
  });

  app.get<{ Querystring: { digest?: string; repository?: string } }>('/approvals', async (request) => {
    const { digest, repository } = request.query;
    if (!digest || !repository) throw badRequest('give ?digest=sha256:…&repository=<target repository>');
    requireAction(request, access, 'read', repository);
    return { approvals: await deps.meta.approvals.list(digestParam(digest), repository) };
  });

  // Withdrawing: one's own approval, or anybody's with manage on the repository. Gates that
  // counted it fail again from now on; promotions it already allowed stay as recorded.
  app.delete<{ Querystring: { digest?: string; repository?: string; approver?: string } }>(
    '/approvals',
    async (request, reply) => {
      const p = requireSignedIn(request);
      const { digest, repository } = request.query;
      if (!digest || !repository) {
        throw badRequest('give ?digest=sha256:…&repository=<target repository>[&approver=<user>]');
      }
      const approver = request.query.approver || p.name;
      if (approver !== p.name) requireAction(request, access, 'manage', repository);
      const parsed = digestParam(digest);
      if (!(await deps.meta.approvals.remove(parsed, repository, approver))) {
        throw notFound(`${approver} has not approved ${parsed} for ${repository}`);
      }
      auditChange(request, access, {
        action: 'approval.withdraw',
        repository,
        target: parsed,
        ...(approver !== p.name ? { detail: { approver } } : {}),
      });
      reply.code(204);
    },
  );
}

/**
 * The local repository an approval is for (the caller reads something in it; virtual and remote
 * ones were refused before: they have no gates). An approval is recorded only from someone it
 * can count for: a member of a group an approval gate of that repository names. Anything else
 * would be a record that looks like consent and means nothing.
 */
function approvalTarget(access: ApiAccess, p: Principal, repo: RepositoryRecord): RepositoryRecord {
  const refusal = approvalRefusal(p, repo, access.identity.groupsOf(p.name), access.identity.policy);
  if (refusal) throw forbidden(refusal);
  return repo;
}

/**
 * Under `/repositories/<key>/images/<image>`: `GET /manifests/<digest>/checklist` (the image
 * checklist) and `GET /tags/<tag>` (where a tag points; what the CLI resolves tags with).
 */
export function manifestRoutes(access: ApiAccess, deps: PromotionDeps): ImageRoute[] {
  return [
    {
      method: 'GET',
      suffix: '/manifests/:digest/checklist',
      handle: (request, _reply, m) =>
        checklistOf(deps, access, request, { ...m, digest: m.params.digest ?? '' }),
    },
    {
      method: 'GET',
      suffix: '/tags/:tag',
      handle: async (request, _reply, m) => {
        requireAction(request, access, 'read', m.repository, m.image);
        const digest = await deps.meta.tags.resolve(m.repository, m.image, m.params.tag ?? '');
        if (!digest) throw notFound(`${m.repository}/${m.image} has no tag ${m.params.tag}`);
        return { repository: m.repository, image: m.image, tag: m.params.tag, digest };
      },
    },
  ];
}

async function checklistOf(
  deps: PromotionDeps,
  access: ApiAccess,
  request: Parameters<typeof requireAction>[0],
  where: { repository: string; image: string; digest: string },
) {
  const digest = digestParam(where.digest);
  requireAction(request, access, 'read', where.repository, where.image);
  // Through a virtual repository: the member that holds it (reading the virtual one was checked).
  const readable = access.identity.policy.memberReader(request.principal);
  const holder = await deps.checklist.holder({ ...where, digest }, readable);
  if (!holder) throw notFound(`${where.repository}/${where.image} does not hold ${digest}`);
  const results = await deps.checklist.evaluate({ repository: holder, image: where.image, digest });
  const verdict = results.some((r) => r.status === 'fail')
    ? 'fail'
    : results.some((r) => r.status === 'warn')
      ? 'warn'
      : 'pass';
  return { repository: where.repository, image: where.image, digest, verdict, results };
}

function digestParam(value: string): Digest {
  if (!isDigest(value))
    throw badRequest(`${JSON.stringify(value.slice(0, 100))} is not a digest like sha256:<64 hex>`);
  return value as Digest;
}

function boundedLimit(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw badRequest('limit must be a whole number from 1 to 1000');
  return n;
}
