export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA.dockerManifest,
  MEDIA.dockerManifestList,
  MEDIA.ociManifest,
  MEDIA.ociIndex,
];

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA.dockerManifestList, MEDIA.ociIndex];

/** Config media types of runnable images: a manifest with any other config is an artifact. */
export const IMAGE_CONFIG_MEDIA_TYPES: readonly string[] = [MEDIA.ociConfig, MEDIA.dockerConfig];

/** Layers a registry need not hold: their bytes live at `urls` outside it. */
export function isForeignLayer(mediaType: string): boolean {
  return mediaType.includes('foreign') || mediaType.includes('nondistributable');
}
