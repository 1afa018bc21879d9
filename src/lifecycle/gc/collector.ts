import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../config/logger.ts';
import { conflict, notFound } from '../../domain/errors.ts';
import type { GcItem, GcLink, GcMeta, GcRunRecord } from '../../meta/gc-store.ts';
import type { Digest } from '../../oci/digest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { Eviction } from './cache-eviction.ts';

/*
 * Online garbage collection, and why it cannot lose a push.
 *
 * Rows are the truth, bytes follow. A blob file is needed while some row names its digest: a
 * blob link (a name holds the blob: an upload finished, a mount, a pull-through fetch), a
 * manifest row (the manifest's own bytes) or a manifest reference. A run has two phases, each
 * a sequence of small transactions, so Gantry keeps serving throughout (before them, in
 * repositories whose settings say `gc.untaggedManifests`, manifests no tag, index or subject
 * reaches are deleted, each after the same kind of re-check; see #manifests):
 *
 * 1. Links. A link that no manifest of its name references, created before the run's cut-off
 *    (start minus the grace period), is deleted in a transaction that re-checks both
 *    conditions. A manifest PUT checks, in its own transaction, that its name links every blob
 *    it references (ManifestMeta.put). Transactions on the metadata store are serialised (SQLite
 *    takes the write lock at BEGIN IMMEDIATE), so one of the two commits first: the PUT, and
 *    then the re-check sees its reference and keeps the link; or the removal, and then the PUT
 *    fails with MANIFEST_BLOB_UNKNOWN and the client uploads the blob again. The grace period
 *    keeps what a client just uploaded for the manifest that follows.
 *
 * 2. Blobs. A file last written before the cut-off whose digest no row names gets a tombstone,
 *    written in the transaction that re-checks there is no such row (the recorded mark). Every
 *    transaction that writes a link or a manifest row first checks for a tombstone of the digest
 *    and fails (BlobCollectedError) when there is one; so again one of the two commits first:
 *    the row, and no tombstone is written; or the tombstone, and the row is refused, the client
 *    gets a spec error and uploads again. Only after the tombstone commits is the file deleted,
 *    and only after the file is gone is the tombstone removed: a crash in between leaves a
 *    tombstone, which the next run (or the resumed one) finishes first. A client writing the
 *    same bytes meanwhile either keeps its file (written after the cut-off: never a candidate)
 *    or is refused by the tombstone. One interleaving is left: a put finds the file still there
 *    and keeps it (no new write, so no younger file), the run deletes it and clears the
 *    tombstone, and only then does the client's row commit. So every writer looks again after
 *    its row commits (BlobService.confirmStored, ManifestService.put): from that commit on no run
 *    can tombstone the digest, so a file present then stays; a file missing then was deleted
 *    before it, and the link is taken back (the client uploads again) or the manifest's bytes,
 *    which the request holds, are stored again. So no row ever names a deleted file. (A soak of
 *    150 s at grace 0 found the interleaving before this check existed.)
 *
 * On PostgreSQL the same holds when these transactions run SERIALIZABLE or lock the digest's
 * rows; SQLite serialises them by construction.
 *
 * Remote (pull-through) repositories are caches: their links are roots (the link phase collects
 * local repositories' links only), so collection never removes cached content or a transfer in
 * progress (its file is younger than the cut-off). What leaves a cache is decided by its cache
 * policy (settings.cache), applied first in the manifest phase (cache-eviction.ts): an evicted
 * manifest is deleted through the ordinary manifest delete, like a client's DELETE, and the links
 * of the blobs only it named in its image are removed by the link removal below (re-checked in
 * its transaction; created before the run's start rather than the cut-off, as the grace period
 * protects uploads awaiting their manifest, and this manifest was removed on purpose), so the
 * bytes follow under the blob phase's argument, which never asks why a row went (a file younger
 * than the cut-off waits for a later run). The eviction skips images with a transfer in
 * progress; a transfer starting after it writes its link after the run's start, and that link
 * stays. At worst a pull racing the eviction finds the link gone and fetches the blob again.
 * Temporary files and abandoned uploads are the upload janitor's (src/registry/upload-janitor.ts).
 */

export interface GcSettings {
  /** Default grace period. */
  graceSeconds: number;
  /** Deletions per second, links and blobs together; 0 for no limit. */
  deletesPerSecond: number;
}

export interface StartGc {
  dryRun: boolean;
  graceSeconds?: number;
  trigger: 'manual' | 'schedule';
  actor: string;
}

const LEASE = 'gc';
/** Renewed at every save; a crashed holder's lease blocks the resumed run at most this long. */
const LEASE_MS = 30_000;
/** Progress is recorded at least this often (and after every batch). */
const SAVE_MS = 1000;
const BATCH = 500;
/** Index → child and subject → referrer chains deeper than this wait for the next run. */
const MANIFEST_PASSES = 8;
/**
 * Deletions per transaction when not throttled. A step is a few statements (the links and
 * tombstones of a step are checked and written per name and chunk, not one by one), so it holds
 * the write lock for milliseconds; each commit costs a sync, and fewer commits are most of the
 * speed of a large run.
 */
const STEP = 500;
/** File deletions in flight at once (the thread pool overlaps them); the tombstones cover them all. */
const PARALLEL_DELETES = 32;
/** A dry run lists at most this many items; the counts cover everything. */
const MAX_ITEMS = 10_000;
/**
 * Repository kinds whose links the link phase may remove. Not remote ones: pull-through stores
 * its manifests without references (layers are linked when fetched), so "no manifest references
 * it" says nothing there; the cache policy names the links an eviction frees instead.
 */
const COLLECTED_KINDS = ['local'];

/** What a run needs. */
export interface GcDeps {
  meta: GcMeta;
  blobs: BlobStore;
  log: Logger;
  settings: GcSettings;
  /** Applies the remote repositories' cache policies (cache-eviction.ts); absent: caches are kept whole. */
  evictCaches?: (options: { now: Date; apply: boolean }) => Promise<Eviction[]>;
}

export class GarbageCollector {
  /** This process's identity in the lease table. */
  readonly #holder = `${process.pid}-${randomUUID()}`;
  #current: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(private readonly deps: GcDeps) {}

  /**
   * Starts a run in the background and returns its record. ConflictError when a run is in
   * progress here or on another node (the lease).
   */
  async start(input: StartGc): Promise<GcRunRecord> {
    if (this.#current) throw conflict('a garbage collection run is already in progress');
    if (!(await this.#lease())) {
      throw conflict('a garbage collection run is already in progress on another node');
    }
    const run: GcRunRecord = {
      id: randomUUID(),
      state: 'running',
      dryRun: input.dryRun,
      graceSeconds: input.graceSeconds ?? this.deps.settings.graceSeconds,
      trigger: input.trigger,
      startedBy: input.actor,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      phase: 'tombstones',
      cursor: null,
      linksRemoved: 0,
      blobsRemoved: 0,
      manifestsRemoved: 0,
      bytesFreed: 0,
      errors: [],
    };
    await this.deps.meta.createRun(run);
    this.#launch(run);
    return run;
  }

  /** Continues runs a crash or restart interrupted, oldest first, where each stopped. */
  async resume(): Promise<void> {
    const [first, ...rest] = await this.deps.meta.unfinishedRuns();
    for (const stale of rest) {
      await this.deps.meta.updateRun(stale.id, {
        state: 'failed',
        finishedAt: new Date().toISOString(),
        errors: [...stale.errors, 'superseded by an older interrupted run'],
      });
    }
    if (!first || this.#current) return;
    if (!(await this.#lease())) {
      // The lease of the process that crashed has not expired yet (or another node runs it).
      const retry = setTimeout(() => void this.resume().catch(() => undefined), LEASE_MS / 6);
      retry.unref();
      this.#abort.signal.addEventListener('abort', () => clearTimeout(retry), { once: true });
      return;
    }
    this.deps.log.info({ run: first.id, phase: first.phase }, 'resuming garbage collection');
    this.#launch(first);
  }

  async run(id: string): Promise<GcRunRecord> {
    const run = await this.deps.meta.getRun(id);
    if (!run) throw notFound(`no garbage collection run ${id}`);
    return run;
  }

  runs(limit = 50): Promise<GcRunRecord[]> {
    return this.deps.meta.listRuns(limit);
  }

  /** Resolves when the current run (if any) has stopped. */
  async idle(): Promise<void> {
    await this.#current;
  }

  /** Stops the current run between two steps; it stays `running` and resumes on the next start. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#current;
  }

  #lease(): Promise<boolean> {
    return this.deps.meta.acquireLease(LEASE, this.#holder, new Date(Date.now() + LEASE_MS));
  }

  #launch(run: GcRunRecord): void {
    this.#current = this.#execute(run).finally(() => {
      this.#current = undefined;
    });
  }

  async #execute(run: GcRunRecord): Promise<void> {
    const { meta, log } = this.deps;
    try {
      const pass = new Pass(this.deps, run, this.#abort.signal, () => this.#lease());
      await pass.execute();
      if (this.#abort.signal.aborted) return;
      await meta.updateRun(run.id, {
        ...pass.progress(),
        state: 'finished',
        phase: 'done',
        finishedAt: now(),
      });
      log.info({ run: run.id, ...pass.progress() }, 'garbage collection finished');
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      log.error({ err: error, run: run.id }, 'garbage collection failed');
      const message = error instanceof Error ? error.message : String(error);
      await meta
        .updateRun(run.id, { state: 'failed', finishedAt: now(), errors: [...run.errors, message] })
        .catch((err: unknown) => log.error({ err }, 'could not record the failed run'));
    } finally {
      await meta.releaseLease(LEASE, this.#holder).catch(() => undefined);
    }
  }
}

/** One execution of a run, from its recorded phase and cursor to the end. */
class Pass {
  readonly #cutoff: Date;
  readonly #run: GcRunRecord;
  readonly #items: GcItem[];
  /** Dry run: how many links of each digest the link phase would remove. */
  readonly #candidateLinks = new Map<Digest, number>();
  #savedAt = Date.now();

  constructor(
    private readonly deps: GcDeps,
    run: GcRunRecord,
    private readonly signal: AbortSignal,
    private readonly renewLease: () => Promise<boolean>,
  ) {
    this.#run = { ...run };
    this.#items = run.items ?? [];
    this.#cutoff = new Date(Date.parse(run.startedAt) - run.graceSeconds * 1000);
  }

  progress() {
    const r = this.#run;
    return {
      linksRemoved: r.linksRemoved,
      blobsRemoved: r.blobsRemoved,
      manifestsRemoved: r.manifestsRemoved,
      bytesFreed: r.bytesFreed,
      errors: r.errors,
      ...(r.dryRun ? { items: this.#items } : {}),
    };
  }

  async execute(): Promise<void> {
    // A dry run always starts over: its findings are not durable state worth resuming.
    if (this.#run.dryRun && this.#run.phase !== 'tombstones') await this.#enter('tombstones');
    if (this.#run.phase === 'tombstones') {
      if (!this.#run.dryRun) await this.#finishTombstones();
      await this.#enter('manifests');
    }
    if (this.#run.phase === 'manifests') {
      await this.#evictCaches();
      await this.#manifests();
      await this.#enter('links');
    }
    if (this.#run.phase === 'links') {
      await this.#links();
      await this.#enter('blobs');
    }
    if (this.#run.phase === 'blobs') await this.#sweepBlobs();
  }

  async #enter(phase: GcRunRecord['phase']): Promise<void> {
    this.#run.phase = phase;
    this.#run.cursor = null;
    await this.#save();
  }

  async #save(): Promise<void> {
    this.signal.throwIfAborted();
    if (!(await this.renewLease())) throw new Error('lost the garbage collection lease to another node');
    const { phase, cursor } = this.#run;
    await this.deps.meta.updateRun(this.#run.id, { ...this.progress(), phase, cursor });
    this.#savedAt = Date.now();
  }

  /** Within a batch: a throttled run still shows progress (and keeps its lease). */
  async #saveNow(): Promise<void> {
    if (Date.now() - this.#savedAt >= SAVE_MS) await this.#save();
  }

  /** Deletions a crash interrupted after their tombstone committed: the rows are already gone. */
  async #finishTombstones(): Promise<void> {
    for (const t of await this.deps.meta.tombstones()) {
      await this.deps.blobs.delete(t.digest);
      await this.deps.meta.clearTombstone(t.digest);
      this.#run.blobsRemoved++;
      this.#run.bytesFreed += t.size;
    }
  }

  /**
   * The remote caches' policies, measured at the run's start. Re-applying them after a resume is
   * harmless: what was evicted is gone, and the rest is judged again.
   */
  async #evictCaches(): Promise<void> {
    if (!this.deps.evictCaches) return;
    const evicted = await this.deps.evictCaches({
      now: new Date(Date.parse(this.#run.startedAt)),
      apply: !this.#run.dryRun,
    });
    for (const e of evicted) {
      this.#list({ kind: 'manifest', digest: e.digest, size: e.size, name: `${e.repository}/${e.image}` });
      this.#run.manifestsRemoved++;
      if (this.#run.dryRun) {
        for (const link of e.links) {
          this.#candidateLinks.set(link.digest, (this.#candidateLinks.get(link.digest) ?? 0) + 1);
          this.#list({
            kind: 'link',
            digest: link.digest,
            size: link.size,
            name: `${e.repository}/${e.image}`,
          });
          this.#run.linksRemoved++;
        }
      } else {
        // Older than the run's start, not the cut-off: the grace period is for uploads whose
        // manifest is still on its way, and this manifest is gone on purpose. A fetch after the
        // eviction writes a younger link, which stays.
        const started = new Date(Date.parse(this.#run.startedAt));
        for (const step of this.#steps(e.links)) {
          this.#run.linksRemoved += await this.deps.meta.removeLinks(step, started);
          await this.#throttle(step.length);
        }
      }
    }
    if (evicted.length > 0) await this.#save();
  }

  /**
   * Untagged manifests, in repositories whose settings ask for it. Each removal re-checks in its
   * transaction that no tag, index or subject holds the manifest, so a tag moved onto it
   * meanwhile keeps it; a removed index frees its children for the next pass, and a removed
   * subject its referrers. What a removed manifest alone referenced goes in the link phase.
   */
  async #manifests(): Promise<void> {
    let pending = await this.deps.meta.unreachableManifests(this.#cutoff);
    if (this.#run.dryRun) {
      for (const m of pending) {
        this.#list({ kind: 'manifest', digest: m.digest, size: 0, name: `${m.repository}/${m.image}` });
        this.#run.manifestsRemoved++;
      }
      return;
    }
    for (let pass = 0; pass < MANIFEST_PASSES && pending.length > 0; pass++) {
      const left: typeof pending = [];
      for (const manifest of pending) {
        if (await this.deps.meta.removeManifest(manifest, this.#cutoff)) {
          this.#run.manifestsRemoved++;
          await this.#throttle(1);
          await this.#saveNow();
        } else left.push(manifest);
      }
      if (left.length === pending.length) break;
      pending = left;
    }
    await this.#save();
  }

  async #links(): Promise<void> {
    let after = this.#run.cursor ? (JSON.parse(this.#run.cursor) as GcLink) : undefined;
    for (;;) {
      const links = await this.deps.meta.unreferencedLinks({
        after,
        before: this.#cutoff,
        kinds: COLLECTED_KINDS,
        limit: BATCH,
      });
      if (this.#run.dryRun) {
        for (const link of links) {
          this.#candidateLinks.set(link.digest, (this.#candidateLinks.get(link.digest) ?? 0) + 1);
          const name = `${link.repository}/${link.image}`;
          this.#list({ kind: 'link', digest: link.digest, size: link.size, name });
          this.#run.linksRemoved++;
        }
      } else {
        // One transaction per step: each link is re-checked and deleted inside it, so the
        // argument above holds per link; a step is small enough to keep writers waiting briefly.
        for (const step of this.#steps(links)) {
          this.#run.linksRemoved += await this.deps.meta.removeLinks(step, this.#cutoff);
          // Everything up to here is done: a resumed run starts after it.
          this.#run.cursor = JSON.stringify(step[step.length - 1]);
          await this.#throttle(step.length);
          await this.#saveNow();
        }
      }
      after = links[links.length - 1];
      if (!after) return;
      this.#run.cursor = JSON.stringify(after);
      await this.#save();
    }
  }

  async #sweepBlobs(): Promise<void> {
    let batch: { digest: Digest; size: number }[] = [];
    for await (const blob of this.deps.blobs.list(this.signal)) {
      if (blob.modified >= this.#cutoff) continue;
      batch.push(blob);
      if (batch.length < BATCH) continue;
      await this.#sweepBatch(batch);
      batch = [];
    }
    await this.#sweepBatch(batch);
  }

  async #sweepBatch(batch: readonly { digest: Digest; size: number }[]): Promise<void> {
    if (batch.length === 0) return;
    const { meta, blobs } = this.deps;
    const digests = batch.map((b) => b.digest);
    const referenced = this.#run.dryRun
      ? await this.#referencedAfterDryLinks(digests)
      : await meta.referenced(digests);
    const free = batch.filter((b) => !referenced.has(b.digest));
    if (this.#run.dryRun) {
      for (const blob of free) {
        this.#list({ kind: 'blob', digest: blob.digest, size: blob.size });
        this.#run.blobsRemoved++;
        this.#run.bytesFreed += blob.size;
      }
      await this.#save();
      return;
    }
    for (const step of this.#steps(free)) {
      const sizes = new Map(step.map((b) => [b.digest, b.size]));
      const marked = await meta.tombstoneMany(step, this.#run.id);
      // The commit above is the point of no return for these digests; the bytes follow it, and
      // only then do the tombstones go (after every file of the step is gone: a failed delete
      // leaves all of the step's tombstones for the next run to finish).
      for (let i = 0; i < marked.length; i += PARALLEL_DELETES) {
        await Promise.all(marked.slice(i, i + PARALLEL_DELETES).map((digest) => blobs.delete(digest)));
      }
      for (const digest of marked) {
        this.#run.blobsRemoved++;
        this.#run.bytesFreed += sizes.get(digest) ?? 0;
      }
      await meta.clearTombstones(marked);
      await this.#throttle(marked.length);
      await this.#saveNow();
    }
    await this.#save();
  }

  /** What a dry run keeps: digests some row needs, other than the links it would remove. */
  async #referencedAfterDryLinks(digests: readonly Digest[]): Promise<Set<Digest>> {
    const { meta } = this.deps;
    const kept = await meta.referencedWithoutLinks(digests);
    const links = await meta.linkCounts(digests);
    for (const [digest, count] of links) {
      if (count > (this.#candidateLinks.get(digest) ?? 0)) kept.add(digest);
    }
    return kept;
  }

  #list(item: GcItem): void {
    if (this.#items.length < MAX_ITEMS) this.#items.push(item);
  }

  /** Deletions per transaction: small when throttled, so the rate stays smooth. */
  #steps<T>(items: readonly T[]): T[][] {
    const rate = this.deps.settings.deletesPerSecond;
    const size = rate > 0 ? Math.max(1, Math.min(STEP, Math.floor(rate / 4))) : STEP;
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }

  async #throttle(deletions: number): Promise<void> {
    const rate = this.deps.settings.deletesPerSecond;
    if (rate > 0 && deletions > 0) await sleep((1000 * deletions) / rate, undefined, { signal: this.signal });
  }
}

function now(): string {
  return new Date().toISOString();
}
