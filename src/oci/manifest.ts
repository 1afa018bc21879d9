import { type Digest, parseDigest } from './digest.ts';
import { OciError } from './errors.ts';
import { INDEX_MEDIA_TYPES, isForeignLayer, MANIFEST_MEDIA_TYPES, MEDIA } from './media-types.ts';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
}

/** What the registry needs to know about a manifest it stores. */
export interface ParsedManifest {
  mediaType: string;
  /** For the referrers API: `artifactType`, else the config's media type (image manifests only). */
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
  config?: Descriptor;
  layers: Descriptor[];
  /** Children of an index. */
  manifests: Descriptor[];
  /** Blobs and child manifests that must exist in the repository before this manifest may. */
  references: { digest: Digest; kind: 'blob' | 'manifest' }[];
}

const invalid = (message: string, detail?: unknown) => new OciError('MANIFEST_INVALID', message, detail);

/**
 * Validates a manifest body against what the client says it is (`contentType`, may be empty).
 * Throws MANIFEST_INVALID with a reason a person can act on; never anything else.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new OciError(
      'SIZE_INVALID',
      `manifest is ${bytes.length} bytes; at most ${MAX_MANIFEST_BYTES} are accepted`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw invalid(`manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid('manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  const declared = cleanType(contentType);
  if (m.schemaVersion === 1 || declared === MEDIA.dockerSchema1 || declared === MEDIA.dockerSchema1Signed) {
    throw invalid('Docker schema 1 manifests are not supported; push the image as Docker schema 2 or OCI');
  }
  if (m.schemaVersion !== 2) throw invalid(`schemaVersion must be 2, got ${JSON.stringify(m.schemaVersion)}`);
  const mediaType = resolveMediaType(m, declared);
  const annotations = optionalStringMap(m.annotations, 'annotations');
  const subject = m.subject === undefined ? undefined : descriptor(m.subject, 'subject');
  if (INDEX_MEDIA_TYPES.includes(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid('an index needs a "manifests" array');
    const manifests = m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return {
      mediaType,
      ...opt('artifactType', optionalString(m.artifactType, 'artifactType')),
      ...opt('subject', subject),
      ...opt('annotations', annotations),
      layers: [],
      manifests,
      references: manifests.map((d) => ({ digest: d.digest, kind: 'manifest' as const })),
    };
  }
  if (m.config === undefined) throw invalid('an image manifest needs a "config" descriptor');
  const config = descriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw invalid('an image manifest needs a "layers" array');
  const layers = m.layers.map((d, i) => descriptor(d, `layers[${i}]`));
  const artifactType = optionalString(m.artifactType, 'artifactType') ?? config.mediaType;
  const references = [config, ...layers.filter((l) => !isForeignLayer(l.mediaType))].map((d) => ({
    digest: d.digest,
    kind: 'blob' as const,
  }));
  return {
    mediaType,
    artifactType,
    ...opt('subject', subject),
    ...opt('annotations', annotations),
    config,
    layers,
    manifests: [],
    references,
  };
}

function resolveMediaType(m: Record<string, unknown>, declared: string | undefined): string {
  const inBody = optionalString(m.mediaType, 'mediaType');
  if (inBody && declared && MANIFEST_MEDIA_TYPES.includes(declared) && inBody !== declared) {
    throw invalid(`Content-Type is ${declared} but the manifest says mediaType ${inBody}`);
  }
  const type = inBody ?? (declared && MANIFEST_MEDIA_TYPES.includes(declared) ? declared : undefined);
  if (type) {
    if (!MANIFEST_MEDIA_TYPES.includes(type)) {
      throw invalid(
        `unsupported manifest media type "${type}"; expected one of ${MANIFEST_MEDIA_TYPES.join(', ')}`,
      );
    }
    return type;
  }
  // OCI allows an absent mediaType: tell the kinds apart by their fields.
  if (Array.isArray(m.manifests)) return MEDIA.ociIndex;
  if (m.config !== undefined) return MEDIA.ociManifest;
  throw invalid('cannot tell the manifest type: no mediaType, no config, no manifests');
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${where} must be an object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '')
    throw invalid(`${where}.mediaType must be a string`);
  if (typeof d.digest !== 'string') throw invalid(`${where}.digest must be a string`);
  let digest: Digest;
  try {
    digest = parseDigest(d.digest);
  } catch (e) {
    throw invalid(`${where}.digest: ${(e as Error).message}`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  const out: Descriptor = { mediaType: d.mediaType, digest, size: d.size };
  const artifactType = optionalString(d.artifactType, `${where}.artifactType`);
  if (artifactType) out.artifactType = artifactType;
  const annotations = optionalStringMap(d.annotations, `${where}.annotations`);
  if (annotations) out.annotations = annotations;
  if (typeof d.platform === 'object' && d.platform !== null)
    out.platform = d.platform as Record<string, unknown>;
  return out;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${where} must be a string`);
  return value;
}

function optionalStringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${where} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`${where}.${k} must be a string`);
  }
  return value as Record<string, string>;
}

function cleanType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
