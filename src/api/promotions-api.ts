import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { PromotionQuery, PromotionRecord } from '../meta/promotion-records.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { approvalRefusal } from '../promote/approval-eligibility.ts';
import { CHECKS } from '../promote/checklist.ts';
import type { ChecklistService } from '../promote/checklist-service.ts';
import { parsePromotionRequest } from '../promote/promotion-request.ts';
import type { PromotionService } from '../promote/promotion-service.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { auditChange, requireAction, requireSignedIn } from './api-auth.ts';
import { DigestString, GateResult, looseBody, NoContent, Timestamp } from './api-schema.ts';
import type { ImageRoute } from './image-routes.ts';

const CheckStatus = z.enum(['pass', 'warn', 'fail']);
const TAGS = ['promotion'];
const Where = z.object({ repository: z.string(), image: z.string() });
/** What POST /promotions answers (PromotionResult). */
export const PromotionResultSchema = z.object({
  promoted: z.boolean(),
  dryRun: z.boolean(),
  digest: DigestString,
  source: Where,
  target: Where,
  mode: z.enum(['copy', 'move']),
  tags: z.array(z.object({ tag: z.string(), previousDigest: DigestString.optional() })),
  gates: z.array(GateResult),
  copied: z.array(DigestString).describe('digests newly held by the target'),
  floating: z
    .array(z.object({ tag: z.string(), digest: DigestString }))
    .describe('floating tags moved afterwards'),
});
const Promotion = z.object({
  id: z.number().optional(),
  at: Timestamp,
  actor: z.string(),
  sourceRepository: z.string(),
  sourceImage: z.string(),
  targetRepository: z.string(),
  targetImage: z.string(),
  digest: DigestString,
  tags: z.array(z.string()),
  mode: z.enum(['copy', 'move']),
  comment: z.string(),
  gates: z.array(GateResult),
  outcome: z.enum(['promoted', 'refused']),
});
/** Names and references are checked by parsePromotionRequest (promotion-request.ts). */
const PromotionBody = looseBody(
  '{"source": "docker-dev-local/team/app:1.4.2", "target": "docker-staging-local"}',
  {
    source: z
      .union([z.string(), z.looseObject({})], {
        error: 'source must be "<repository>/<image>:<tag>" or {"repository", "image", "tag" or "digest"}',
      })
      .describe('"<repository>/<image>:<tag>" (or @digest), or {repository, image, tag or digest}'),
    target: z
      .union([z.string(), z.looseObject({})], {
        error: 'target must be a repository key or {"repository", "image"}',
      })
      .describe('a repository key, or {repository, image}'),
    tags: z
      .array(z.string({ error: 'tags must be a list of tags' }), { error: 'tags must be a list of tags' })
      .optional()
      .describe('tags to set in the target; default the source tag'),
    mode: z.enum(['copy', 'move'], { error: 'mode must be "copy" or "move"' }).optional(),
    comment: z.string({ error: 'comment must be a string' }).optional(),
    dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
  },
);
const Approval = z.object({
  digest: DigestString,
  repository: z.string(),
  approver: z.string(),
  comment: z.string(),
  at: Timestamp,
});
const ApprovalQuery = z.object({
  digest: z.string().optional().describe('sha256:…'),
  repository: z.string().optional().describe('the target repository'),
});

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
  const promoteSchema = {
    summary: 'Promote an image into another repository through its gates, or try it (dryRun)',
    tags: TAGS,
    body: PromotionBody,
    response: { 200: PromotionResultSchema, 201: PromotionResultSchema },
  };
  app.post('/promotions', { schema: promoteSchema }, async (request, reply) => {
    const result = await deps.promotions.promote(
      request.principal,
      parsePromotionRequest(request.body),
      request.ip,
    );
    if (!result.dryRun) reply.code(201);
    return result;
  });

  const historySchema = {
    summary: 'Promotions and refusals, newest first',
    tags: TAGS,
    querystring: z.object({
      image: z.string().optional(),
      digest: z.string().optional(),
      repository: z.string().optional().describe('source or target'),
      limit: z.string().optional().describe('1 to 1000, default 100'),
      before: z.string().optional().describe('a promotion id: the page after it'),
    }),
    response: { 200: z.object({ promotions: z.array(Promotion) }) },
  };
  app.get<{ Querystring: HistoryParams }>('/promotions', { schema: historySchema }, async (request) => {
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

  const approveSchema = {
    summary: "Approve a digest for a target repository (members of its approval gate's group)",
    tags: TAGS,
    body: z.looseObject(
      { repository: z.string(), digest: z.string(), comment: z.string().optional() },
      { error: 'send {"repository": "<target repository>", "digest": "sha256:…", "comment": "…"}' },
    ),
    response: { 201: Approval },
  };
  app.post('/approvals', { schema: approveSchema }, async (request, reply) => {
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

  const approvalsSchema = {
    summary: 'Approvals of a digest for a target repository',
    tags: TAGS,
    querystring: ApprovalQuery,
    response: { 200: z.object({ approvals: z.array(Approval) }) },
  };
  app.get<{ Querystring: { digest?: string; repository?: string } }>(
    '/approvals',
    { schema: approvalsSchema },
    async (request) => {
      const { digest, repository } = request.query;
      if (!digest || !repository) throw badRequest('give ?digest=sha256:…&repository=<target repository>');
      requireAction(request, access, 'read', repository);
      return { approvals: await deps.meta.approvals.list(digestParam(digest), repository) };
    },
  );

  // Withdrawing: one's own approval, or anybody's with manage on the repository. Gates that
  // counted it fail again from now on; promotions it already allowed stay as recorded.
  app.delete<{ Querystring: { digest?: string; repository?: string; approver?: string } }>(
    '/approvals',
    {
      schema: {
        summary: "Withdraw one's own approval, or anybody's with manage on the repository",
        tags: TAGS,
        querystring: ApprovalQuery.extend({ approver: z.string().optional() }),
        response: { 204: NoContent },
      },
    },
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
      schema: {
        summary: 'The image checklist of a manifest',
        tags: ['promotion'],
        params: z.object({ digest: DigestString }),
        response: {
          200: z.object({
            repository: z.string(),
            image: z.string(),
            digest: DigestString,
            verdict: CheckStatus,
            results: z.array(z.object({ check: z.enum(CHECKS), status: CheckStatus, reason: z.string() })),
          }),
        },
      },
      handle: (request, _reply, m) =>
        checklistOf(deps, access, request, { ...m, digest: m.params.digest ?? '' }),
    },
    {
      method: 'GET',
      suffix: '/tags/:tag',
      schema: {
        summary: 'Where a tag points',
        tags: ['tags'],
        params: z.object({ tag: z.string() }),
        response: {
          200: z.object({ repository: z.string(), image: z.string(), tag: z.string(), digest: DigestString }),
        },
      },
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
