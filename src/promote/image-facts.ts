import type { ContentFact } from '../meta/promotion-records.ts';
import type { Digest } from '../oci/digest.ts';
import { type ParsedManifest, parseManifest } from '../oci/manifest.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ImageUnderCheck } from './checklist.ts';

/** Image configs larger than this are not read for labels (real ones are a few KiB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

interface ImageConfigJson {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    Labels?: Record<string, string> | null;
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      Retries?: number;
    };
  };
}

/** What an image's config says about running it, for people (the web UI's manifest page). */
export interface ImageConfigView {
  architecture: string | null;
  os: string | null;
  created: string | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  user: string;
  workingDir: string;
  /** `NAME=value` as in the config (the caller masks secrets). */
  env: string[];
  labels: Record<string, string>;
  /** Durations in nanoseconds, as Docker stores them. */
  healthcheck: {
    test: string[];
    interval?: number;
    timeout?: number;
    startPeriod?: number;
    retries?: number;
  } | null;
}

/**
 * What the content of a manifest says about the image: its labels, annotations, user, env,
 * healthcheck, layers, per platform for an index. Read from the BlobStore; nothing here
 * depends on where the digest is held.
 */
export class ImageFacts {
  constructor(private readonly blobs: BlobStore) {}

  /** The platforms' images of a manifest (one for an image manifest, each child for an index). */
  async images(digest: Digest, signal?: AbortSignal): Promise<ImageUnderCheck[]> {
    const parsed = await this.manifest(digest, signal);
    if (parsed.manifests.length === 0) return [await this.image(parsed, '', signal)];
    const images: ImageUnderCheck[] = [];
    for (const child of parsed.manifests) {
      const p = child.platform as { os?: string; architecture?: string; variant?: string } | undefined;
      const platform = p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : child.digest;
      const childManifest = await this.manifest(child.digest, signal);
      if (childManifest.config) images.push(await this.image(childManifest, platform, signal));
    }
    return images;
  }

  /** Labels of the config and annotations of the manifest, for search. */
  static contentFacts(parsed: ParsedManifest, config: Buffer | undefined): ContentFact[] {
    const facts: ContentFact[] = [];
    for (const [key, value] of Object.entries(parsed.annotations ?? {}))
      facts.push({ source: 'annotation', key, value });
    const labels = config ? (parseConfig(config).config?.Labels ?? {}) : {};
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value === 'string') facts.push({ source: 'label', key, value });
    }
    return facts;
  }

  /** The config blob of an image manifest when it is small enough to read. */
  async configOf(parsed: ParsedManifest, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (!parsed.config || parsed.config.size > MAX_CONFIG_BYTES) return undefined;
    return this.blobs.read(parsed.config.digest, signal);
  }

  /** The config of an image manifest, read for people; null for an index or an unreadable config. */
  async configView(parsed: ParsedManifest, signal?: AbortSignal): Promise<ImageConfigView | null> {
    const bytes = await this.configOf(parsed, signal);
    if (!bytes) return null;
    const doc = parseConfig(bytes);
    const c = doc.config ?? {};
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
    const h = c.Healthcheck;
    const test = strings(h?.Test);
    const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
    const healthcheck =
      test && test.length > 0 && test[0] !== 'NONE'
        ? Object.fromEntries(
            Object.entries({
              test,
              interval: num(h?.Interval),
              timeout: num(h?.Timeout),
              startPeriod: num(h?.StartPeriod),
              retries: num(h?.Retries),
            }).filter(([, v]) => v !== undefined),
          )
        : null;
    const labels = Object.fromEntries(
      Object.entries(c.Labels ?? {}).filter(([, v]) => typeof v === 'string'),
    ) as Record<string, string>;
    return {
      architecture: typeof doc.architecture === 'string' ? doc.architecture : null,
      os: typeof doc.os === 'string' ? doc.os : null,
      created: typeof doc.created === 'string' ? doc.created : null,
      entrypoint: strings(c.Entrypoint),
      cmd: strings(c.Cmd),
      user: typeof c.User === 'string' ? c.User : '',
      workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
      env: strings(c.Env) ?? [],
      labels,
      healthcheck: healthcheck as ImageConfigView['healthcheck'],
    };
  }

  async manifest(digest: Digest, signal?: AbortSignal): Promise<ParsedManifest> {
    return parseManifest(await this.blobs.read(digest, signal), undefined);
  }

  private async image(
    parsed: ParsedManifest,
    platform: string,
    signal?: AbortSignal,
  ): Promise<ImageUnderCheck> {
    const bytes = await this.configOf(parsed, signal);
    const config = bytes ? parseConfig(bytes) : {};
    const test = config.config?.Healthcheck?.Test;
    return {
      platform,
      labels: config.config?.Labels ?? {},
      annotations: parsed.annotations ?? {},
      user: config.config?.User ?? '',
      env: config.config?.Env ?? [],
      healthcheck: Array.isArray(test) ? test : undefined,
      layerCount: parsed.layers.length,
      size: parsed.layers.reduce((sum, l) => sum + l.size, 0),
    };
  }
}

function parseConfig(bytes: Buffer): ImageConfigJson {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof doc === 'object' && doc !== null ? (doc as ImageConfigJson) : {};
  } catch {
    return {};
  }
}
