import { Readable } from 'node:stream';
import type { Logger } from '../../config/logger.ts';
import type { MetadataStore } from '../../meta/metadata-store.ts';
import { type ManifestRecord, manifestRecord, type RepositoryRecord } from '../../meta/records.ts';
import type { AddressPolicy } from '../../net/address-policy.ts';
import type { Digest } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { Metrics } from '../../ops/metrics.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { ResolvedName } from '../repository-service.ts';
import { BlobFanout, type Transfer } from './blob-fanout.ts';
import { checkRemoteSettings, type RemoteSettings } from './remote-settings.ts';
import type { Upstream, UpstreamManifest } from './upstream.ts';
import { UpstreamClient } from './upstream-client.ts';
import { UpstreamError } from './upstream-error.ts';

const ACTOR = 'pull-through';

/**
 * Reads of a remote repository: served from the cache (the repository's own manifests, tags
 * and blob links in the stores) when present and fresh, else fetched from upstream, verified,
 * stored, and served. Cached content stays servable when upstream is down or deletes it: a tag
 * answers as last seen. Concurrent misses for one blob or manifest cause one upstream request.
 */
export class PullThrough {
  readonly #clients = new Map<string, { fingerprint: string; client: UpstreamClient }>();
  /** When each tag was last compared with upstream; lost on restart, which costs one re-check. */
  readonly #tagChecked = new Map<string, number>();
  readonly #tagLists = new Map<string, { at: number; tags: string[] }>();
  readonly #manifestFetches = new Map<string, Promise<ManifestRecord | undefined>>();
  readonly #fanout = new BlobFanout();
  /** Remote repositories whose upstream could not be reached, until when that is believed. */
  readonly #unreachable = new Map<string, { until: number; error: UpstreamError }>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    /** The server's upstream address policy (config upstreamAllow / upstreamDeny). */
    private readonly addresses: AddressPolicy,
    private readonly options: {
      unreachableSeconds: number;
      /** Cache hits and misses, upstream failures (ops/metrics.ts). */
      metrics?: Pick<Metrics, 'remote' | 'upstreamError'>;
    } = { unreachableSeconds: 30 },
  ) {}

  /**
   * `repository \0 image` of every upstream fetch in progress (manifests and blobs): the cache
   * policy evicts nothing of these images while they are being filled.
   */
  transfersInProgress(): Set<string> {
    const out = new Set<string>();
    for (const key of [...this.#fanout.keys(), ...this.#manifestFetches.keys()]) {
      out.add(key.slice(0, key.lastIndexOf('\0')));
    }
    return out;
  }

  /** The manifest for a tag or digest, cached or fetched; undefined when upstream does not have it. */
  async manifest(
    target: ResolvedName,
    ref: { tag: string } | { digest: Digest },
  ): Promise<ManifestRecord | undefined> {
    const { key } = target.repository;
    if ('digest' in ref) {
      const cached = await this.meta.manifests.get(key, target.image, ref.digest);
      if (cached || this.#settings(target.repository).offline) {
        this.#count(key, 'manifest', 'hit');
        return cached;
      }
      this.#count(key, 'manifest', 'miss');
      return this.#once(`${key}\0${target.image}\0${ref.digest}`, () => this.#fetch(target, ref.digest));
    }
    const tagKey = `${key}\0${target.image}\0${ref.tag}`;
    const cachedDigest = await this.meta.tags.resolve(key, target.image, ref.tag);
    const settings = this.#settings(target.repository);
    const checked = this.#tagChecked.get(tagKey);
    const fresh = checked !== undefined && Date.now() - checked < settings.ttlSeconds * 1000;
    if (settings.offline || (cachedDigest && fresh)) {
      this.#count(key, 'manifest', 'hit');
      return cachedDigest ? this.meta.manifests.get(key, target.image, cachedDigest) : undefined;
    }
    this.#count(key, 'manifest', 'miss');
    return this.#once(tagKey, () => this.#refreshTag(target, ref.tag, cachedDigest, tagKey));
  }

  /** Size of a blob, starting its download into the cache when it is not there. */
  async blobSize(target: ResolvedName, digest: Digest): Promise<number | undefined> {
    const cached = await this.meta.blobs.get(target.repository.key, target.image, digest);
    if (cached !== undefined) return cached;
    return (await this.#transfer(target, digest))?.size;
  }

  /** The blob's bytes: from the cache, or streamed from upstream while they are stored. */
  async openBlob(target: ResolvedName, digest: Digest, signal: AbortSignal): Promise<Readable | undefined> {
    // Counted here, once per download of the content (a GET asks blobSize twice before, and a
    // HEAD moves no content): a miss is a blob not stored yet, fetched now or joining a fetch.
    const cached = await this.meta.blobs.get(target.repository.key, target.image, digest);
    this.#count(target.repository.key, 'blob', cached === undefined ? 'miss' : 'hit');
    if (cached !== undefined) return this.blobs.open(digest, undefined, signal);
    const transfer = await this.#transfer(target, digest);
    return transfer?.follow((range) => this.blobs.open(digest, range, signal));
  }

  /** Resolves once the blob is in the cache (for range reads of a blob being downloaded). */
  async stored(target: ResolvedName, digest: Digest): Promise<void> {
    if ((await this.meta.blobs.get(target.repository.key, target.image, digest)) !== undefined) return;
    const transfer = await this.#transfer(target, digest);
    await transfer?.done;
    if (transfer?.state === 'failed') throw unavailable(transfer.error);
  }

  /** Upstream's tags, kept for the TTL; the cached tags when upstream cannot be asked. */
  async tags(target: ResolvedName): Promise<string[] | undefined> {
    const { key } = target.repository;
    const settings = this.#settings(target.repository);
    const listKey = `${key}\0${target.image}`;
    const kept = this.#tagLists.get(listKey);
    if (kept && Date.now() - kept.at < settings.ttlSeconds * 1000) {
      this.#count(key, 'tags', 'hit');
      return kept.tags;
    }
    const cached = async () => {
      const tags = await this.meta.tags.list(key, target.image, {});
      return tags.length > 0 ? tags : undefined;
    };
    if (settings.offline) {
      this.#count(key, 'tags', 'hit');
      return cached();
    }
    this.#count(key, 'tags', 'miss');
    try {
      const tags = await this.#ask(target.repository, (c) => c.listTags(target.image));
      if (tags) this.#tagLists.set(listKey, { at: Date.now(), tags: [...tags].sort() });
      return tags && [...tags].sort();
    } catch (error) {
      const fallback = await cached();
      if (fallback) return this.#stale(target, error, fallback);
      throw unavailable(error);
    }
  }

  async #refreshTag(
    target: ResolvedName,
    tag: string,
    cachedDigest: Digest | undefined,
    tagKey: string,
  ): Promise<ManifestRecord | undefined> {
    const { key } = target.repository;
    const cachedRecord = async () =>
      cachedDigest ? this.meta.manifests.get(key, target.image, cachedDigest) : undefined;
    let fetched: UpstreamManifest | undefined;
    try {
      fetched = await this.#ask(target.repository, (c) => c.getManifest(target.image, tag));
    } catch (error) {
      const cached = await cachedRecord();
      if (cached) return this.#stale(target, error, cached);
      throw unavailable(error);
    }
    this.#tagChecked.set(tagKey, Date.now());
    // Upstream deleted the tag: what was cached stays available.
    if (!fetched) return cachedRecord();
    return this.#store(target, fetched, tag);
  }

  async #fetch(target: ResolvedName, digest: Digest): Promise<ManifestRecord | undefined> {
    let fetched: UpstreamManifest | undefined;
    try {
      fetched = await this.#ask(target.repository, (c) => c.getManifest(target.image, digest));
    } catch (error) {
      throw unavailable(error);
    }
    return fetched && this.#store(target, fetched);
  }

  /**
   * Stores a verified upstream manifest like a push, bytes first. Its layers are fetched when
   * asked for, so the cache records no references it does not hold yet.
   */
  async #store(target: ResolvedName, fetched: UpstreamManifest, tag?: string): Promise<ManifestRecord> {
    const parsed = parseManifest(fetched.bytes, fetched.mediaType);
    await this.blobs.put(fetched.digest, Readable.from([fetched.bytes]), { size: fetched.bytes.length });
    const record = manifestRecord(
      { repository: target.repository.key, image: target.image },
      { digest: fetched.digest, size: fetched.bytes.length, parsed },
    );
    await this.meta.manifests.put({
      record,
      references: [],
      ...(tag ? { tag: { name: tag, actor: ACTOR, cause: 'cache' as const } } : {}),
    });
    return record;
  }

  #transfer(target: ResolvedName, digest: Digest): Promise<Transfer | undefined> {
    const { key } = target.repository;
    if (this.#settings(target.repository).offline) return Promise.resolve(undefined);
    return this.#fanout.join(
      `${key}\0${target.image}\0${digest}`,
      async () => {
        try {
          return await this.#ask(target.repository, (c) => c.openBlob(target.image, digest));
        } catch (error) {
          throw unavailable(error);
        }
      },
      async (body, size) => {
        await this.blobs.put(digest, body, { size });
        await this.meta.blobs.link(key, target.image, digest, size);
        // As for uploads (BlobService.confirmStored): a GC run may have deleted a file the put
        // kept before this link committed; then the cache does not hold it and the next pull
        // fetches it again.
        if ((await this.blobs.stat(digest)) === undefined)
          await this.meta.blobs.unlink(key, target.image, digest);
      },
    );
  }

  /** Runs `fetch` once per key at a time; concurrent callers share its result. */
  #once<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const running = this.#manifestFetches.get(key) as Promise<T> | undefined;
    if (running) return running;
    const started = fetch().finally(() => this.#manifestFetches.delete(key));
    this.#manifestFetches.set(key, started as Promise<ManifestRecord | undefined>);
    return started;
  }

  /** One read of the cache: `hit` answered without asking upstream, `miss` asks upstream. */
  #count(repository: string, kind: 'manifest' | 'blob' | 'tags', result: 'hit' | 'miss'): void {
    this.options.metrics?.remote(repository, kind, result);
  }

  #stale<T>(target: ResolvedName, error: unknown, cached: T): T {
    this.log.warn(
      { repository: target.repository.key, image: target.image, err: (error as Error).message },
      'upstream unavailable; serving the cached copy',
    );
    return cached;
  }

  #settings(repo: RepositoryRecord): RemoteSettings {
    return checkRemoteSettings(repo.settings).settings;
  }

  /**
   * Runs one upstream request, unless the upstream was found unreachable less than
   * `unreachableSeconds` ago: then the remembered error, at once (a connect timeout per request
   * would hold every client of a virtual repository for as long).
   */
  async #ask<T>(repo: RepositoryRecord, request: (client: Upstream) => Promise<T>): Promise<T> {
    const client = this.#client(repo);
    const down = this.#unreachable.get(repo.key);
    if (down && Date.now() < down.until) throw down.error;
    try {
      return await request(client);
    } catch (error) {
      this.options.metrics?.upstreamError(repo.key, error instanceof UpstreamError ? error.kind : 'other');
      const unreachable =
        error instanceof UpstreamError && (error.kind === 'unreachable' || error.kind === 'timeout');
      if (unreachable && this.options.unreachableSeconds > 0) {
        const until = Date.now() + this.options.unreachableSeconds * 1000;
        const remembered = new UpstreamError(
          error.kind,
          error.upstream,
          `${error.message} (not asked again until ${new Date(until).toISOString()})`,
        );
        this.#unreachable.set(repo.key, { until, error: remembered });
      }
      throw error;
    }
  }

  /** One client per remote repository, made anew when its settings change. */
  #client(repo: RepositoryRecord): Upstream {
    const settings = this.#settings(repo);
    const fingerprint = JSON.stringify(settings);
    const kept = this.#clients.get(repo.key);
    if (kept?.fingerprint === fingerprint) return kept.client;
    // New settings (another URL, say) deserve a fresh attempt.
    this.#unreachable.delete(repo.key);
    kept?.client.close();
    const client = new UpstreamClient({
      url: settings.url,
      addresses: this.addresses,
      ...(settings.pathPrefix ? { pathPrefix: settings.pathPrefix } : {}),
      ...(settings.username && settings.password
        ? { credentials: { username: settings.username, password: settings.password } }
        : {}),
    });
    this.#clients.set(repo.key, { fingerprint, client });
    return client;
  }
}

/**
 * Upstream failures become 503 UNKNOWN (the spec has no code for "try again later"); the
 * message already names the upstream and the cause.
 */
function unavailable(error: unknown): Error {
  if (error instanceof OciError) return error;
  return new OciError('UNKNOWN', (error as Error).message, undefined, undefined, 503);
}
