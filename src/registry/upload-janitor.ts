import type { Logger } from '../config/logger.ts';
import { fsck } from '../lifecycle/fsck.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { BlobStore } from '../storage/blob-store.ts';

/**
 * Discards uploads nobody finished within the TTL: their session rows and their data. An upload
 * still receiving chunks is kept however old it is. Runs at start and then hourly; an upload
 * file without a row (a crash between the two writes of
 * POST) goes too, once it is older than the TTL, and so do temporary files of blob writes a
 * crash interrupted (BlobStore.sweepTemporary).
 */
export function startUploadJanitor(options: {
  meta: MetadataStore;
  blobs: BlobStore;
  ttlHours: number;
  log: Logger;
  /** Each sweep's duration and result, as job `upload-cleanup`. */
  metrics?: Pick<Metrics, 'timeJob'>;
}): { stop(): void } {
  const sweep = async () => {
    const before = new Date(Date.now() - options.ttlHours * 3_600_000);
    const modified = new Map<string, Date>();
    for await (const upload of options.blobs.uploads.list()) modified.set(upload.id, upload.modified);
    let removed = 0;
    for (const upload of await options.meta.uploads.listStartedBefore(before)) {
      const lastChunk = modified.get(upload.id);
      if (lastChunk && lastChunk >= before) continue; // old but still receiving bytes
      await options.meta.uploads.delete(upload.id);
      await options.blobs.uploads.cancel(upload.id);
      removed++;
    }
    for (const [id, at] of modified) {
      if (at < before && !(await options.meta.uploads.get(id))) {
        await options.blobs.uploads.cancel(id);
        removed++;
      }
    }
    if (removed > 0) options.log.info({ removed }, 'discarded abandoned uploads');
    const temporary = await options.blobs.sweepTemporary(before);
    if (temporary > 0)
      options.log.info({ removed: temporary }, 'removed temporary files of interrupted writes');
  };
  const timed = () => options.metrics?.timeJob('upload-cleanup', sweep) ?? sweep();
  const run = () => timed().catch((err: unknown) => options.log.warn({ err }, 'upload cleanup failed'));
  // Rows whose bytes are gone (a disk that lost files in a crash, a hand-deleted file): their
  // links go, so the next push uploads the blob again instead of being told it is here. Only a
  // stat per digest (fsck without hashing), at start-up and daily; manifest rows are reported.
  const orphans = async () => {
    const report = await fsck({ meta: options.meta.gc, blobs: options.blobs }, { repair: true, hash: false });
    if (report.problems.length > 0)
      options.log.warn({ problems: report.problems }, 'rows whose stored bytes are gone: links removed');
  };
  const checkRows = () =>
    (options.metrics?.timeJob('row-check', orphans) ?? orphans()).catch((err: unknown) =>
      options.log.warn({ err }, 'checking rows against storage failed'),
    );
  void run().then(checkRows);
  const timer = setInterval(run, 3_600_000);
  const daily = setInterval(checkRows, 86_400_000);
  timer.unref();
  daily.unref();
  return {
    stop: () => {
      clearInterval(timer);
      clearInterval(daily);
    },
  };
}
