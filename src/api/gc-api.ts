import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { objectBody, optionalBoolean } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { fsck } from '../lifecycle/fsck.ts';
import type { GarbageCollector } from '../lifecycle/gc/collector.ts';
import type { GcRunRecord } from '../meta/gc-store.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { auditChange, requireAdmin } from './api-auth.ts';
import { DigestString, Timestamp } from './api-schema.ts';

const MAX_GRACE_SECONDS = 365 * 86_400;

const TAGS = ['lifecycle'];
const Run = z.object({
  id: z.string(),
  state: z.enum(['running', 'finished', 'failed']),
  dryRun: z.boolean(),
  graceSeconds: z.number(),
  trigger: z.string().describe('manual or schedule'),
  startedBy: z.string(),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  phase: z.string().describe('tombstones, links, blobs or done; a restart resumes from here'),
  linksRemoved: z.number(),
  blobsRemoved: z.number(),
  manifestsRemoved: z.number(),
  bytesFreed: z.number(),
  errors: z.array(z.string()),
});
// Bodies are checked in the handlers, in their own words; documented here.
const startSchema = {
  summary: 'Start a garbage collection run, or a dry run listing what would go (administrators)',
  tags: TAGS,
  body: z
    .looseObject({
      dryRun: z.boolean().optional(),
      graceSeconds: z.number().optional().describe('default: the gcGraceHours setting; 0 is for emergencies'),
    })
    .nullish(),
  response: { 202: z.object({ run: Run }) },
};
const runsSchema = {
  summary: 'Garbage collection runs, newest first (administrators)',
  tags: TAGS,
  response: { 200: z.object({ runs: z.array(Run) }) },
};
const runSchema = {
  summary: "One garbage collection run, with a dry run's list of what would go (administrators)",
  tags: TAGS,
  params: z.object({ id: z.string() }),
  response: { 200: z.object({ run: Run.extend({ items: z.array(z.looseObject({})).optional() }) }) },
};
const fsckSchema = {
  summary: 'Check every blob against its digest and every reference against storage; repair quarantines',
  tags: TAGS,
  body: z.looseObject({ repair: z.boolean().optional() }).nullish(),
  response: {
    200: z.object({
      blobsChecked: z.number(),
      bytesChecked: z.number(),
      rowDigestsChecked: z.number(),
      pendingDeletions: z.number(),
      problems: z.array(
        z.object({
          kind: z.enum(['corrupt', 'missing']),
          digest: DigestString,
          repaired: z.string().optional(),
        }),
      ),
    }),
  },
};

/**
 * `/api/v1/gc` (start a garbage collection run, list runs, one run with a dry run's list) and
 * `/api/v1/fsck` (check, and with `repair` fix, storage against metadata). Administrators only;
 * starting a run and repairing are audited.
 */
export async function gcApi(
  app: FastifyInstance,
  deps: { access: ApiAccess; gc: GarbageCollector; meta: MetadataStore; blobs: BlobStore },
): Promise<void> {
  app.post('/gc', { schema: startSchema }, async (request, reply) => {
    requireAdmin(request, 'run garbage collection');
    const input =
      request.body == null ? {} : objectBody(request.body, '{"dryRun": true, "graceSeconds": 3600}');
    const unknown = Object.keys(input).filter((k) => k !== 'dryRun' && k !== 'graceSeconds');
    if (unknown.length > 0)
      throw badRequest(`unknown field ${unknown.join(', ')}; expected dryRun, graceSeconds`);
    const dryRun = optionalBoolean(input, 'dryRun') ?? false;
    const graceSeconds = graceOf(input.graceSeconds);
    const run = await deps.gc.start({
      dryRun,
      ...(graceSeconds === undefined ? {} : { graceSeconds }),
      trigger: 'manual',
      actor: request.principal.name,
    });
    auditChange(request, deps.access, {
      action: 'gc.start',
      target: run.id,
      outcome: 'success',
      detail: { dryRun, graceSeconds: run.graceSeconds },
    });
    return reply.code(202).send({ run: view(run) });
  });

  app.get('/gc/runs', { schema: runsSchema }, async (request) => {
    requireAdmin(request, 'list garbage collection runs');
    return { runs: (await deps.gc.runs()).map(view) };
  });

  app.get<{ Params: { id: string } }>('/gc/runs/:id', { schema: runSchema }, async (request) => {
    requireAdmin(request, 'read a garbage collection run');
    const run = await deps.gc.run(request.params.id);
    return { run: { ...view(run), ...(run.items ? { items: run.items } : {}) } };
  });

  app.post('/fsck', { schema: fsckSchema }, async (request) => {
    requireAdmin(request, 'check storage');
    const input = request.body == null ? {} : objectBody(request.body, '{"repair": false}');
    const repair = optionalBoolean(input, 'repair') ?? false;
    const report = await fsck({ meta: deps.meta.gc, blobs: deps.blobs }, { repair });
    if (repair) {
      auditChange(request, deps.access, {
        action: 'fsck.repair',
        target: 'storage',
        outcome: 'success',
        detail: { problems: report.problems.length },
      });
    }
    return report;
  });
}

function graceOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GRACE_SECONDS) {
    throw badRequest(`graceSeconds must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS}`);
  }
  return value;
}

/** The API's shape of a run (the contract the web UI's Storage page reads). */
function view(run: GcRunRecord) {
  return {
    id: run.id,
    state: run.state,
    dryRun: run.dryRun,
    graceSeconds: run.graceSeconds,
    trigger: run.trigger,
    startedBy: run.startedBy,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    phase: run.phase,
    linksRemoved: run.linksRemoved,
    blobsRemoved: run.blobsRemoved,
    manifestsRemoved: run.manifestsRemoved,
    bytesFreed: run.bytesFreed,
    errors: run.errors,
  };
}
