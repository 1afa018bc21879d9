import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { DomainEvent } from '../event-records.ts';
import {
  BlobCollectedError,
  type GcItem,
  type GcLink,
  type GcManifest,
  type GcMeta,
  type GcPhase,
  type GcProgress,
  type GcRunRecord,
  type GcRunState,
} from '../gc-store.ts';
import type { Database, GcRunsTable } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';
import { deleteManifests } from './manifests.ts';
import { appendEvents } from './outbox.ts';
import { countLinksRemoved } from './usage.ts';

/**
 * Refuses a link or manifest row for a digest whose deletion is committed. Called inside every
 * transaction that writes such rows (linkBlobs, insertManifest): together with tombstone(),
 * which checks for those rows in its own transaction, exactly one of the two wins.
 */
export async function refuseCollected(trx: Kysely<Database>, digests: readonly string[]): Promise<void> {
  for (const part of chunks([...new Set(digests)])) {
    const row = await trx
      .selectFrom('gc_tombstones')
      .select('digest')
      .where('digest', 'in', part)
      .limit(1)
      .executeTakeFirst();
    if (row) throw new BlobCollectedError(row.digest);
  }
}

export class KyselyGcMeta implements GcMeta {
  constructor(private readonly ctx: QueryContext) {}

  async createRun(run: Parameters<GcMeta['createRun']>[0]): Promise<void> {
    await this.ctx.db
      .insertInto('gc_runs')
      .values({
        id: run.id,
        state: run.state,
        dry_run: run.dryRun ? 1 : 0,
        grace_seconds: run.graceSeconds,
        trigger: run.trigger,
        started_by: run.startedBy,
        started_at: run.startedAt,
        phase: run.phase,
        links_removed: 0,
        blobs_removed: 0,
        manifests_removed: 0,
        bytes_freed: 0,
        errors: '[]',
        items: run.items ? JSON.stringify(run.items) : null,
      })
      .execute();
  }

  async updateRun(id: string, p: GcProgress & { state?: GcRunState; finishedAt?: string }): Promise<void> {
    const set: Updateable<GcRunsTable> = {};
    if (p.state !== undefined) set.state = p.state;
    if (p.finishedAt !== undefined) set.finished_at = p.finishedAt;
    if (p.phase !== undefined) set.phase = p.phase;
    if (p.cursor !== undefined) set.cursor = p.cursor;
    if (p.linksRemoved !== undefined) set.links_removed = p.linksRemoved;
    if (p.blobsRemoved !== undefined) set.blobs_removed = p.blobsRemoved;
    if (p.manifestsRemoved !== undefined) set.manifests_removed = p.manifestsRemoved;
    if (p.bytesFreed !== undefined) set.bytes_freed = p.bytesFreed;
    if (p.errors !== undefined) set.errors = JSON.stringify(p.errors);
    if (p.items !== undefined) set.items = JSON.stringify(p.items);
    if (Object.keys(set).length === 0) return;
    const terminal = p.state === 'finished' || p.state === 'failed';
    if (!terminal) {
      await this.ctx.db.updateTable('gc_runs').set(set).where('id', '=', id).execute();
      return;
    }
    // The run's end and its gc.finished event commit together (or neither does).
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('gc_runs').set(set).where('id', '=', id).execute();
      const row = await trx.selectFrom('gc_runs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return;
      const run = toRun(row, { items: false });
      await appendEvents(trx, run.finishedAt ?? this.ctx.now().toISOString(), [gcFinishedEvent(run)]);
    });
  }

  async getRun(id: string): Promise<GcRunRecord | undefined> {
    const row = await this.ctx.db.selectFrom('gc_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row, { items: true });
  }

  async listRuns(limit: number): Promise<GcRunRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('gc_runs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => toRun(r, { items: false }));
  }

  async unfinishedRuns(): Promise<GcRunRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('gc_runs')
      .selectAll()
      .where('state', '=', 'running')
      .orderBy('started_at')
      .execute();
    return rows.map((r) => toRun(r, { items: true }));
  }

  async acquireLease(name: string, holder: string, until: Date): Promise<boolean> {
    const now = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const lease = await trx
        .selectFrom('job_leases')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      if (lease && lease.holder !== holder && lease.expires_at > now) return false;
      const row = { name, holder, expires_at: until.toISOString() };
      if (lease) await trx.updateTable('job_leases').set(row).where('name', '=', name).execute();
      else await trx.insertInto('job_leases').values(row).execute();
      return true;
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.ctx.db
      .deleteFrom('job_leases')
      .where('name', '=', name)
      .where('holder', '=', holder)
      .execute();
  }

  async unreferencedLinks(options: {
    after: GcLink | undefined;
    before: Date;
    kinds: readonly string[];
    limit: number;
  }): Promise<GcLink[]> {
    const { db } = this.ctx;
    let query = db
      .selectFrom('blob_links as l')
      .innerJoin('repositories as r', 'r.key', 'l.repository')
      .select(['l.repository', 'l.image', 'l.digest', 'l.size'])
      .where('r.kind', 'in', options.kinds)
      .where('l.created_at', '<', options.before.toISOString())
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('manifest_refs as m')
              .select('m.ref_digest')
              .whereRef('m.repository', '=', 'l.repository')
              .whereRef('m.image', '=', 'l.image')
              .whereRef('m.ref_digest', '=', 'l.digest'),
          ),
        ),
      );
    const after = options.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('l.repository', '>', after.repository),
          eb.and([eb('l.repository', '=', after.repository), eb('l.image', '>', after.image)]),
          eb.and([
            eb('l.repository', '=', after.repository),
            eb('l.image', '=', after.image),
            eb('l.digest', '>', after.digest),
          ]),
        ]),
      );
    }
    const rows = await query
      .orderBy('l.repository')
      .orderBy('l.image')
      .orderBy('l.digest')
      .limit(options.limit)
      .execute();
    return rows.map((r) => ({ ...r, digest: r.digest as Digest, size: Number(r.size) }));
  }

  async removeLink(link: GcLink, before: Date): Promise<boolean> {
    return (await this.removeLinks([link], before)) === 1;
  }

  async removeLinks(links: readonly GcLink[], before: Date): Promise<number> {
    if (links.length === 0) return 0;
    return this.ctx.db.transaction().execute((trx) => removeLinksIn(trx, links, before));
  }

  async tombstoneMany(blobs: readonly { digest: Digest; size: number }[], runId: string): Promise<Digest[]> {
    if (blobs.length === 0) return [];
    const created_at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const referenced = await referencedIn(
        trx,
        blobs.map((b) => b.digest),
      );
      const free = blobs.filter((b) => !referenced.has(b.digest));
      for (const part of chunks(free)) {
        await trx
          .insertInto('gc_tombstones')
          .values(part.map((b) => ({ digest: b.digest, size: b.size, run_id: runId, created_at })))
          .execute();
      }
      return free.map((b) => b.digest);
    });
  }

  async clearTombstones(digests: readonly Digest[]): Promise<void> {
    for (const part of chunks(digests)) {
      await this.ctx.db.deleteFrom('gc_tombstones').where('digest', 'in', part).execute();
    }
  }

  async unreachableManifests(before: Date): Promise<GcManifest[]> {
    const { db } = this.ctx;
    const repos = (
      await db.selectFrom('repositories').select(['key', 'settings']).where('kind', '=', 'local').execute()
    )
      .filter((r) => collectsUntagged(r.settings))
      .map((r) => r.key);
    const found: GcManifest[] = [];
    for (const repository of repos) {
      const manifests = await db
        .selectFrom('manifests')
        .select(['image', 'digest', 'subject', 'created_at'])
        .where('repository', '=', repository)
        .execute();
      const tags = await db
        .selectFrom('tags')
        .select(['image', 'digest'])
        .where('repository', '=', repository)
        .execute();
      const refs = await db
        .selectFrom('manifest_refs')
        .select(['image', 'digest', 'ref_digest'])
        .where('repository', '=', repository)
        .where('kind', '=', 'manifest')
        .execute();
      const key = (image: string, digest: string) => `${image}\n${digest}`;
      const children = new Map<string, string[]>();
      for (const r of refs)
        children.set(key(r.image, r.digest), [
          ...(children.get(key(r.image, r.digest)) ?? []),
          key(r.image, r.ref_digest),
        ]);
      const referrers = new Map<string, string[]>();
      for (const m of manifests) {
        if (m.subject === null) continue;
        const subject = key(m.image, m.subject);
        referrers.set(subject, [...(referrers.get(subject) ?? []), key(m.image, m.digest)]);
      }
      // Everything reached from a tag, through index children and referrers of what is reached.
      const reached = new Set<string>();
      const queue = tags.map((t) => key(t.image, t.digest));
      while (queue.length > 0) {
        const next = queue.pop() as string;
        if (reached.has(next)) continue;
        reached.add(next);
        queue.push(...(children.get(next) ?? []), ...(referrers.get(next) ?? []));
      }
      const cutoff = before.toISOString();
      for (const m of manifests) {
        if (!reached.has(key(m.image, m.digest)) && m.created_at < cutoff) {
          found.push({ repository, image: m.image, digest: m.digest as Digest });
        }
      }
    }
    return found;
  }

  async removeManifest(manifest: GcManifest, before: Date): Promise<boolean> {
    const { repository, image, digest } = manifest;
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('manifests')
        .select(['subject', 'created_at'])
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('digest', '=', digest)
        .executeTakeFirst();
      if (!row || row.created_at >= before.toISOString()) return false;
      const tagged = await trx
        .selectFrom('tags')
        .select('tag')
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('digest', '=', digest)
        .executeTakeFirst();
      const parent = await trx
        .selectFrom('manifest_refs')
        .select('digest')
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('ref_digest', '=', digest)
        .executeTakeFirst();
      const subject =
        row.subject === null
          ? undefined
          : await trx
              .selectFrom('manifests')
              .select('digest')
              .where('repository', '=', repository)
              .where('image', '=', image)
              .where('digest', '=', row.subject)
              .executeTakeFirst();
      if (tagged || parent || subject) return false;
      const result = await deleteManifests(trx, { repository, image }, [digest], {
        actor: 'gc',
        cause: 'delete',
        at,
      });
      return result.deleted > 0;
    });
  }

  async referenced(digests: readonly Digest[]): Promise<Set<Digest>> {
    return referencedIn(this.ctx.db, digests);
  }

  async referencedWithoutLinks(digests: readonly Digest[]): Promise<Set<Digest>> {
    return referencedIn(this.ctx.db, digests, { links: false });
  }

  async linkCounts(digests: readonly Digest[]): Promise<Map<Digest, number>> {
    const counts = new Map<Digest, number>();
    for (const part of chunks(digests)) {
      const rows = await this.ctx.db
        .selectFrom('blob_links')
        .select((eb) => ['digest', eb.fn.countAll<number | string>().as('n')])
        .where('digest', 'in', part)
        .groupBy('digest')
        .execute();
      for (const row of rows) counts.set(row.digest as Digest, Number(row.n));
    }
    return counts;
  }

  async tombstone(digest: Digest, size: number, runId: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      if ((await referencedIn(trx, [digest])).size > 0) return false;
      const created_at = this.ctx.now().toISOString();
      await trx.insertInto('gc_tombstones').values({ digest, size, run_id: runId, created_at }).execute();
      return true;
    });
  }

  async clearTombstone(digest: Digest): Promise<void> {
    await this.ctx.db.deleteFrom('gc_tombstones').where('digest', '=', digest).execute();
  }

  async rowDigests(after: string | undefined, limit: number): Promise<Digest[]> {
    const { db } = this.ctx;
    let links = db.selectFrom('blob_links').select('digest');
    let manifests = db.selectFrom('manifests').select('digest');
    if (after !== undefined) {
      links = links.where('digest', '>', after);
      manifests = manifests.where('digest', '>', after);
    }
    const rows = await links.union(manifests).orderBy('digest').limit(limit).execute();
    return rows.map((r) => r.digest as Digest);
  }

  async dropLinks(digest: Digest, options: { createdBefore?: string } = {}): Promise<number> {
    return this.ctx.db.transaction().execute(async (trx) => {
      let query = trx.deleteFrom('blob_links').where('digest', '=', digest);
      if (options.createdBefore !== undefined) query = query.where('created_at', '<', options.createdBefore);
      const removed = await query.returning(['repository', 'image', 'digest', 'size']).execute();
      await countLinksRemoved(trx, removed);
      return removed.length;
    });
  }

  async tombstones(): Promise<{ digest: Digest; size: number; runId: string }[]> {
    const rows = await this.ctx.db.selectFrom('gc_tombstones').selectAll().orderBy('digest').execute();
    return rows.map((r) => ({ digest: r.digest as Digest, size: Number(r.size), runId: r.run_id }));
  }
}

/**
 * Deletes, inside the caller's transaction, each link that no manifest of its name references and
 * that is older than `before`; the re-check and the deletes commit together. Per name and chunk,
 * one lookup of the references and one delete of the rest, then the usage update.
 */
async function removeLinksIn(trx: Kysely<Database>, links: readonly GcLink[], before: Date): Promise<number> {
  const byName = new Map<string, { repository: string; image: string; digests: Digest[] }>();
  for (const link of links) {
    const key = `${link.repository}\0${link.image}`;
    const name = byName.get(key) ?? { repository: link.repository, image: link.image, digests: [] };
    name.digests.push(link.digest);
    byName.set(key, name);
  }
  const removed: { repository: string; image: string; digest: string; size: number | string }[] = [];
  for (const { repository, image, digests } of byName.values()) {
    for (const part of chunks(digests)) {
      const referenced = await trx
        .selectFrom('manifest_refs')
        .select('ref_digest')
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('ref_digest', 'in', part)
        .execute();
      const kept = new Set(referenced.map((r) => r.ref_digest));
      const free = part.filter((d) => !kept.has(d));
      if (free.length === 0) continue;
      removed.push(
        ...(await trx
          .deleteFrom('blob_links')
          .where('repository', '=', repository)
          .where('image', '=', image)
          .where('digest', 'in', free)
          .where('created_at', '<', before.toISOString())
          .returning(['repository', 'image', 'digest', 'size'])
          .execute()),
      );
    }
  }
  // Usage counts a digest once per repository: all rows of one digest go in the same call.
  const byDigest = new Map<string, typeof removed>();
  for (const row of removed) byDigest.set(row.digest, [...(byDigest.get(row.digest) ?? []), row]);
  for (const part of chunks([...byDigest.values()])) await countLinksRemoved(trx, part.flat());
  return removed.length;
}

/** Digests some row needs; one indexed lookup per table and chunk. */
async function referencedIn(
  db: Kysely<Database>,
  digests: readonly Digest[],
  options: { links: boolean } = { links: true },
): Promise<Set<Digest>> {
  const found = new Set<Digest>();
  for (const part of chunks(digests)) {
    const queries = [
      ...(options.links ? [db.selectFrom('blob_links').select('digest').where('digest', 'in', part)] : []),
      db.selectFrom('manifests').select('digest').where('digest', 'in', part),
      db.selectFrom('manifest_refs').select('ref_digest as digest').where('ref_digest', 'in', part),
      db.selectFrom('gc_tombstones').select('digest').where('digest', 'in', part),
    ];
    for (const query of queries) for (const row of await query.execute()) found.add(row.digest as Digest);
  }
  return found;
}

/** About no repository: administrators' subscriptions only receive it. */
function gcFinishedEvent(run: GcRunRecord): DomainEvent {
  return {
    type: 'io.gantry.gc.finished',
    subject: `gc/${run.id}`,
    actor: run.startedBy,
    data: {
      id: run.id,
      state: run.state,
      dryRun: run.dryRun,
      trigger: run.trigger,
      startedBy: run.startedBy,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      manifestsRemoved: run.manifestsRemoved,
      linksRemoved: run.linksRemoved,
      blobsRemoved: run.blobsRemoved,
      bytesFreed: run.bytesFreed,
      errors: run.errors,
    },
  };
}

function toRun(row: Selectable<GcRunsTable>, options: { items: boolean }): GcRunRecord {
  return {
    id: row.id,
    state: row.state as GcRunState,
    dryRun: row.dry_run === 1,
    graceSeconds: Number(row.grace_seconds),
    trigger: row.trigger === 'schedule' ? 'schedule' : 'manual',
    startedBy: row.started_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    phase: row.phase as GcPhase,
    cursor: row.cursor,
    linksRemoved: Number(row.links_removed),
    blobsRemoved: Number(row.blobs_removed),
    manifestsRemoved: Number(row.manifests_removed),
    bytesFreed: Number(row.bytes_freed),
    errors: JSON.parse(row.errors) as string[],
    ...(options.items && row.items !== null ? { items: JSON.parse(row.items) as GcItem[] } : {}),
  };
}

/** Whether a repository's settings (JSON) ask for untagged manifests to be collected. */
function collectsUntagged(settings: string): boolean {
  try {
    const parsed = JSON.parse(settings) as { gc?: { untaggedManifests?: unknown } };
    return parsed.gc?.untaggedManifests === true;
  } catch {
    return false;
  }
}
