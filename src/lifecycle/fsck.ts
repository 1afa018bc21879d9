import type { GcMeta } from '../meta/gc-store.ts';
import { type Digest, digestAlgorithm, newHash } from '../oci/digest.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { BlobNotFoundError } from '../storage/errors.ts';

export interface FsckProblem {
  /** corrupt: bytes do not hash to the digest; missing: rows name a blob that is not stored. */
  kind: 'corrupt' | 'missing';
  digest: Digest;
  /** What --repair did: the corrupt blob moved to quarantine, the missing blob's links removed. */
  repaired?: string;
}

export interface FsckReport {
  blobsChecked: number;
  bytesChecked: number;
  rowDigestsChecked: number;
  /** Tombstones of deletions not finished yet (a run is in progress, or the next one finishes them). */
  pendingDeletions: number;
  problems: FsckProblem[];
}

/**
 * Checks every stored blob's bytes against its digest and every digest the metadata names
 * against the store. With `repair`, a corrupt blob is quarantined (its rows then point at a
 * missing blob, so a client pushes it again) and the links of a missing blob are removed, so a
 * push uploads it again instead of being told the registry holds it. Manifest rows whose bytes
 * are missing are reported only: their content cannot be recreated here.
 */
export async function fsck(
  deps: { meta: GcMeta; blobs: BlobStore },
  options: {
    repair: boolean;
    /** false: only the rows are checked against the store (a stat each), no blob is re-read. */
    hash?: boolean;
    signal?: AbortSignal;
  },
): Promise<FsckReport> {
  // Links written after this moment keep their place even if their digest was missing when
  // looked at: a push stores the bytes before the link, so such a link is one being re-pushed.
  const started = new Date().toISOString();
  const report: FsckReport = {
    blobsChecked: 0,
    bytesChecked: 0,
    rowDigestsChecked: 0,
    pendingDeletions: (await deps.meta.tombstones()).length,
    problems: [],
  };
  for await (const blob of options.hash === false ? [] : deps.blobs.list(options.signal)) {
    report.blobsChecked++;
    report.bytesChecked += blob.size;
    if (await hashesTo(deps.blobs, blob.digest, options.signal)) continue;
    const problem: FsckProblem = { kind: 'corrupt', digest: blob.digest };
    if (options.repair) {
      await deps.blobs.quarantine(blob.digest);
      problem.repaired = 'moved to quarantine';
    }
    report.problems.push(problem);
  }
  let after: string | undefined;
  for (;;) {
    const digests = await deps.meta.rowDigests(after, 500);
    if (digests.length === 0) break;
    for (const digest of digests) {
      report.rowDigestsChecked++;
      if ((await deps.blobs.stat(digest, options.signal)) !== undefined) continue;
      const problem: FsckProblem = { kind: 'missing', digest };
      if (options.repair) {
        const removed = await deps.meta.dropLinks(digest, { createdBefore: started });
        problem.repaired = `removed ${removed} blob links`;
      }
      report.problems.push(problem);
    }
    after = digests[digests.length - 1];
  }
  return report;
}

async function hashesTo(blobs: BlobStore, digest: Digest, signal?: AbortSignal): Promise<boolean> {
  const hash = newHash(digestAlgorithm(digest));
  try {
    for await (const chunk of await blobs.open(digest, undefined, signal)) hash.update(chunk as Buffer);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return true; // collected since the listing
    throw error;
  }
  return `${digestAlgorithm(digest)}:${hash.digest('hex')}` === digest;
}
