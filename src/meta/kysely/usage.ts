import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

// Upkeep of repository_usage, the per-repository summary stats() reads. Every write that adds or
// removes manifests or blob links calls one of these in its own transaction, after its rows are
// written, so the summary commits or rolls back with them. Each costs index seeks on the rows
// just touched and one UPSERT per repository, never a scan of the repository.
//
// Invariants (checked against a full recount by the shared test suite after each kind of write):
// - image_count: distinct images of the repository holding at least one manifest;
// - size_bytes: the sum over the distinct digests linked in the repository of the blob's size
//   (content-addressed: one digest, one size; the size counted is the one of the link that
//   first brought the digest into the repository);
// - last_push_at: the newest created_at of a manifest ever put in the repository.
//
// Concurrency: each function locks the usage row (lockUsage) before it looks at what else the
// repository holds. SQLite runs one writer at a time anyway; on PostgreSQL (READ COMMITTED) two
// transactions linking the same new digest under two images would otherwise each miss the
// other's uncommitted row and both count it. With the lock the second one waits, and its next
// statement sees the first one's committed rows.

/** A change to one repository's usage row; absent fields change nothing. */
interface UsageChange {
  images?: number;
  bytes?: number;
  /** created_at of a manifest just put: last_push_at becomes the later of the two. */
  pushedAt?: string;
}

/**
 * Adds the change to the repository's row. The row exists from repository create (or the 0004
 * backfill); should it be missing, the UPSERT starts it from this change alone.
 */
async function changeUsage(trx: Kysely<Database>, repository: string, change: UsageChange): Promise<void> {
  const images = change.images ?? 0;
  const bytes = change.bytes ?? 0;
  const pushedAt = change.pushedAt ?? null;
  if (images === 0 && bytes === 0 && pushedAt === null) return;
  await trx
    .insertInto('repository_usage')
    .values({ repository, image_count: images, size_bytes: bytes, last_push_at: pushedAt })
    .onConflict((oc) =>
      oc.column('repository').doUpdateSet((eb) => ({
        image_count: eb('repository_usage.image_count', '+', eb.ref('excluded.image_count')),
        size_bytes: eb('repository_usage.size_bytes', '+', eb.ref('excluded.size_bytes')),
        // CASE rather than max()/greatest(): the scalar maximum is spelled differently per dialect.
        last_push_at: eb
          .case()
          .when(
            eb.or([
              eb('repository_usage.last_push_at', 'is', null),
              eb('repository_usage.last_push_at', '<', eb.ref('excluded.last_push_at')),
            ]),
          )
          .then(eb.ref('excluded.last_push_at'))
          .else(eb.ref('repository_usage.last_push_at'))
          .end(),
      })),
    )
    .execute();
}

/**
 * Takes the write lock on the repository's usage row for the rest of the transaction (an
 * UPDATE changing nothing: SELECT … FOR UPDATE is not SQLite).
 */
async function lockUsage(trx: Kysely<Database>, repository: string): Promise<void> {
  await trx
    .updateTable('repository_usage')
    .set((eb) => ({ last_push_at: eb.ref('last_push_at') }))
    .where('repository', '=', repository)
    .execute();
}

/** Zero usage for a repository just created, so stats() finds a row for every repository. */
export async function startUsage(trx: Kysely<Database>, repository: string): Promise<void> {
  await trx
    .insertInto('repository_usage')
    .values({ repository, image_count: 0, size_bytes: 0, last_push_at: null })
    .execute();
}

/** After a manifest row was inserted (not one that existed): the push, and maybe a new image. */
export async function countManifestPut(
  trx: Kysely<Database>,
  manifest: { repository: string; image: string; digest: string; createdAt: string },
): Promise<void> {
  await lockUsage(trx, manifest.repository);
  const other = await trx
    .selectFrom('manifests')
    .select('digest')
    .where('repository', '=', manifest.repository)
    .where('image', '=', manifest.image)
    .where('digest', '<>', manifest.digest)
    .limit(1)
    .executeTakeFirst();
  const images = other === undefined ? 1 : 0;
  await changeUsage(trx, manifest.repository, { images, pushedAt: manifest.createdAt });
}

/**
 * After manifests of one image were deleted: the image stops counting when it holds none.
 * last_push_at stays: it is when the repository was last pushed to, not the newest manifest
 * it still holds (deleting that one does not undo the push).
 */
export async function countManifestsDeleted(
  trx: Kysely<Database>,
  name: { repository: string; image: string },
): Promise<void> {
  await lockUsage(trx, name.repository);
  const left = await trx
    .selectFrom('manifests')
    .select('digest')
    .where('repository', '=', name.repository)
    .where('image', '=', name.image)
    .limit(1)
    .executeTakeFirst();
  if (left === undefined) await changeUsage(trx, name.repository, { images: -1 });
}

/** A blob link row as returned by the insert or delete that wrote it. */
export interface LinkRow {
  repository: string;
  image: string;
  digest: string;
  size: number | string;
}

/**
 * After blob links were inserted (only those actually inserted, e.g. from RETURNING): adds the
 * size of each digest the repository did not link before. A digest is new when the repository
 * links it under no image but those of these rows, which also counts a digest once when the
 * batch links it under two images.
 */
export async function countLinksAdded(trx: Kysely<Database>, rows: readonly LinkRow[]): Promise<void> {
  for (const [repository, digests] of byRepository(rows)) {
    await lockUsage(trx, repository);
    const before = await linkedElsewhere(trx, repository, digests, { exceptBatchImages: true });
    let bytes = 0;
    for (const [digest, { size }] of digests) if (!before.has(digest)) bytes += size;
    await changeUsage(trx, repository, { bytes });
  }
}

/** After blob links were deleted: subtracts the size of each digest the repository no longer links. */
export async function countLinksRemoved(trx: Kysely<Database>, rows: readonly LinkRow[]): Promise<void> {
  for (const [repository, digests] of byRepository(rows)) {
    await lockUsage(trx, repository);
    // The deleted rows are gone: any link left, under whichever image, keeps the digest counted.
    const left = await linkedElsewhere(trx, repository, digests, { exceptBatchImages: false });
    let bytes = 0;
    for (const [digest, { size }] of digests) if (!left.has(digest)) bytes -= size;
    await changeUsage(trx, repository, { bytes });
  }
}

/** A digest of a batch: its size and the images the batch's rows name it under. */
interface BatchDigest {
  size: number;
  images: Set<string>;
}

/**
 * Rows grouped by repository (in key order, so transactions lock usage rows in one order),
 * then digest.
 */
function byRepository(rows: readonly LinkRow[]): Map<string, Map<string, BatchDigest>> {
  const out = new Map<string, Map<string, BatchDigest>>();
  const sorted = [...rows].sort((a, b) =>
    a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0,
  );
  for (const { repository, image, digest, size } of sorted) {
    const digests = out.get(repository) ?? new Map<string, BatchDigest>();
    out.set(repository, digests);
    const seen = digests.get(digest);
    if (seen === undefined) digests.set(digest, { size: Number(size), images: new Set([image]) });
    else seen.images.add(image);
  }
  return out;
}

/**
 * The digests the repository links (with `exceptBatchImages`, under an image other than those
 * of the batch's rows of that digest): one EXISTS per digest in one statement, each stopping at the first such link, so a base layer shared by
 * thousands of images costs what a fresh one does. Callers pass at most one chunk.
 */
async function linkedElsewhere(
  trx: Kysely<Database>,
  repository: string,
  digests: ReadonlyMap<string, BatchDigest>,
  { exceptBatchImages }: { exceptBatchImages: boolean },
): Promise<Set<string>> {
  const entries = [...digests];
  if (entries.length === 0) return new Set();
  const row = (await trx
    .selectNoFrom((eb) =>
      entries.map(([digest, { images }], i) => {
        let links = trx
          .selectFrom('blob_links')
          .select('digest')
          .where('repository', '=', repository)
          .where('digest', '=', digest);
        if (exceptBatchImages) links = links.where('image', 'not in', [...images]);
        return eb.exists(links).as(`d${i}`);
      }),
    )
    .executeTakeFirstOrThrow()) as Record<string, unknown>;
  // SQLite answers 0/1, PostgreSQL true/false.
  return new Set(entries.filter((_, i) => row[`d${i}`] === true || row[`d${i}`] === 1).map(([d]) => d));
}
