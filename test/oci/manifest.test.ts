import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf } from '../../src/oci/digest.ts';
import type { OciError } from '../../src/oci/errors.ts';
import { MAX_MANIFEST_BYTES, parseManifest } from '../../src/oci/manifest.ts';
import { MEDIA } from '../../src/oci/media-types.ts';

const d = (s: string) => digestOf(Buffer.from(s));
const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MEDIA.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('config'), size: 6 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('layer'), size: 5 }],
  ...extra,
});

function failure(body: Uint8Array, type?: string): { code: string; message: string } {
  try {
    parseManifest(body, type);
  } catch (e) {
    return { code: (e as OciError).code, message: (e as OciError).message };
  }
  return { code: 'none', message: '' };
}

describe('parseManifest', () => {
  it('lists config and layers as blob references of an image manifest', () => {
    const parsed = parseManifest(bytes(image()), MEDIA.ociManifest);
    assert.equal(parsed.mediaType, MEDIA.ociManifest);
    assert.deepEqual(
      parsed.references.map((r) => [r.kind, r.digest]),
      [
        ['blob', d('config')],
        ['blob', d('layer')],
      ],
    );
    assert.equal(parsed.artifactType, 'application/vnd.oci.image.config.v1+json');
  });

  it('lists children of an index as manifest references and keeps subject and artifactType', () => {
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      artifactType: 'application/x.example',
      subject: { mediaType: MEDIA.ociManifest, digest: d('subject'), size: 10 },
      manifests: [{ mediaType: MEDIA.ociManifest, digest: d('child'), size: 3, platform: { os: 'linux' } }],
    };
    const parsed = parseManifest(bytes(index), undefined);
    assert.deepEqual(parsed.references, [{ kind: 'manifest', digest: d('child') }]);
    assert.equal(parsed.subject?.digest, d('subject'));
    assert.equal(parsed.artifactType, 'application/x.example');
  });

  it('takes the type from Content-Type or the fields when mediaType is absent', () => {
    const { mediaType: _, ...noType } = image();
    assert.equal(parseManifest(bytes(noType), MEDIA.dockerManifest).mediaType, MEDIA.dockerManifest);
    assert.equal(parseManifest(bytes(noType), 'application/octet-stream').mediaType, MEDIA.ociManifest);
  });

  it('does not require foreign layers to be held', () => {
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: d('f'),
      size: 1,
    };
    const parsed = parseManifest(
      bytes(image({ mediaType: MEDIA.dockerManifest, layers: [foreign] })),
      undefined,
    );
    assert.deepEqual(
      parsed.references.map((r) => r.digest),
      [d('config')],
    );
  });

  it('refuses what is not a manifest with MANIFEST_INVALID and a reason', () => {
    const cases: [Uint8Array, string | undefined, RegExp][] = [
      [Buffer.from('null'), undefined, /JSON object/],
      [Buffer.from('[]'), undefined, /JSON object/],
      [Buffer.from('{'), undefined, /not valid JSON/],
      [bytes({ schemaVersion: 3 }), undefined, /schemaVersion must be 2/],
      [bytes({ schemaVersion: 1, name: 'x' }), undefined, /schema 1/],
      [bytes(image()), MEDIA.dockerSchema1Signed, /schema 1/],
      [bytes(image()), MEDIA.dockerManifest, /Content-Type .* but the manifest says/],
      [
        bytes(image({ config: { mediaType: 'x', digest: 'sha256:ABC', size: 1 } })),
        undefined,
        /config\.digest/,
      ],
      [
        bytes(image({ layers: [{ mediaType: 'x', digest: d('l'), size: -1 }] })),
        undefined,
        /layers\[0\]\.size/,
      ],
      [bytes(image({ mediaType: 'application/x-nope' })), undefined, /unsupported manifest media type/],
      [bytes({ schemaVersion: 2, mediaType: MEDIA.ociIndex }), undefined, /"manifests" array/],
      [bytes(image({ annotations: { a: 1 } })), undefined, /annotations\.a must be a string/],
    ];
    for (const [body, type, reason] of cases) {
      const { code, message } = failure(body, type);
      assert.equal(code, 'MANIFEST_INVALID', `${body.toString().slice(0, 60)} → ${message}`);
      assert.match(message, reason);
    }
  });

  it('refuses more than 4 MiB with SIZE_INVALID', () => {
    assert.equal(failure(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 32)).code, 'SIZE_INVALID');
  });
});
