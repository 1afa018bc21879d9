import type { Digest } from '../oci/digest.ts';

/**
 * Manifest bytes by digest, least recently used out first, bounded in bytes. Content under a
 * digest never changes, so entries never go stale; nothing needs invalidating.
 */
export class ManifestCache {
  private readonly entries = new Map<Digest, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: Digest): Buffer | undefined {
    const hit = this.entries.get(digest);
    if (hit) {
      this.entries.delete(digest);
      this.entries.set(digest, hit);
    }
    return hit;
  }

  set(digest: Digest, bytes: Buffer): void {
    if (bytes.length > this.maxBytes || this.entries.has(digest)) return;
    this.entries.set(digest, bytes);
    this.bytes += bytes.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }
}
