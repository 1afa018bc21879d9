/**
 * The image checklist: what can be checked of an image from its manifest and config alone.
 * Pure: the caller gathers the inputs (image-facts.ts). Each result says pass, warn or fail and
 * why; a `checklist` gate names the checks that must not fail.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  reason: string;
}

export const CHECKS = [
  'source-label',
  'revision-label',
  'version-label',
  'created-label',
  'healthcheck',
  'non-root-user',
  'no-secrets-in-env',
  'immutable-tag',
  'build',
  'layer-count',
  'size',
] as const;
export type CheckName = (typeof CHECKS)[number];

/** One platform's image as the checklist sees it. */
export interface ImageUnderCheck {
  /** `linux/amd64`, or '' for a single image. */
  platform: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  user: string;
  env: string[];
  /** The HEALTHCHECK test, e.g. `["CMD", "curl", …]`; undefined when none. */
  healthcheck: string[] | undefined;
  layerCount: number;
  /** Sum of the layer sizes (compressed). */
  size: number;
}

export interface ChecklistInput {
  images: ImageUnderCheck[];
  /** The immutable tags pointing at the digest in this repository, with the rule each matches. */
  immutableTags: { tag: string; rule: string }[];
  /** Build names/numbers that produced the digest. */
  builds: string[];
  limits: ChecklistLimits;
}

export interface ChecklistLimits {
  maxLayers: number;
  maxSizeBytes: number;
}

export const DEFAULT_LIMITS: ChecklistLimits = { maxLayers: 50, maxSizeBytes: 2 * 1024 ** 3 };

/** Names of environment variables that look like they hold a secret. */
export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)/i;

export function evaluateChecklist(input: ChecklistInput): CheckResult[] {
  return [
    ...perImage(input.images, 'source-label', (i) => label(i, 'org.opencontainers.image.source', 'fail')),
    ...perImage(input.images, 'revision-label', (i) => label(i, 'org.opencontainers.image.revision', 'fail')),
    ...perImage(input.images, 'version-label', (i) => label(i, 'org.opencontainers.image.version', 'warn')),
    ...perImage(input.images, 'created-label', (i) => label(i, 'org.opencontainers.image.created', 'warn')),
    ...perImage(input.images, 'healthcheck', healthcheck),
    ...perImage(input.images, 'non-root-user', nonRoot),
    ...perImage(input.images, 'no-secrets-in-env', secrets),
    immutableTag(input),
    build(input),
    ...perImage(input.images, 'layer-count', (i) =>
      i.layerCount <= input.limits.maxLayers
        ? ['pass', `${i.layerCount} layers (at most ${input.limits.maxLayers})`]
        : [
            'fail',
            `${i.layerCount} layers, more than the ${input.limits.maxLayers} allowed; squash or merge layers`,
          ],
    ),
    ...perImage(input.images, 'size', (i) =>
      i.size <= input.limits.maxSizeBytes
        ? ['pass', `${mib(i.size)} (at most ${mib(input.limits.maxSizeBytes)})`]
        : ['fail', `${mib(i.size)} compressed, more than the ${mib(input.limits.maxSizeBytes)} allowed`],
    ),
  ];
}

type Verdict = [CheckStatus, string];

/** One result per check: the worst over the platforms, naming the platform when there are several. */
function perImage(
  images: ImageUnderCheck[],
  check: CheckName,
  judge: (i: ImageUnderCheck) => Verdict,
): CheckResult[] {
  const order: CheckStatus[] = ['pass', 'warn', 'fail'];
  let worst: CheckResult | undefined;
  for (const image of images) {
    const [status, reason] = judge(image);
    const result = {
      check,
      status,
      reason: image.platform && images.length > 1 ? `${image.platform}: ${reason}` : reason,
    };
    if (!worst || order.indexOf(status) > order.indexOf(worst.status)) worst = result;
  }
  return [worst ?? { check, status: 'fail', reason: 'no image to check' }];
}

function label(i: ImageUnderCheck, key: string, missing: CheckStatus): Verdict {
  const value = i.labels[key] ?? i.annotations[key];
  if (value) return ['pass', `${key} = ${value.slice(0, 200)}`];
  return [missing, `no ${key} label or annotation; set it when building (LABEL or --annotation)`];
}

function healthcheck(i: ImageUnderCheck): Verdict {
  if (!i.healthcheck || i.healthcheck.length === 0 || i.healthcheck[0] === 'NONE') {
    return ['fail', 'no HEALTHCHECK; add one to the Dockerfile (build with --format docker to keep it)'];
  }
  return ['pass', `HEALTHCHECK ${i.healthcheck.join(' ').slice(0, 200)}`];
}

function nonRoot(i: ImageUnderCheck): Verdict {
  const user = i.user.trim();
  const name = user.split(':')[0] ?? '';
  if (name === '' || name === 'root' || name === '0') {
    return ['fail', `runs as ${user === '' ? 'root (no USER set)' : user}; add USER with a non-root user`];
  }
  return ['pass', `runs as ${user}`];
}

function secrets(i: ImageUnderCheck): Verdict {
  const suspicious = i.env
    .map((e) => e.split('=', 2) as [string, string | undefined])
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && value !== '')
    .map(([name]) => name);
  if (suspicious.length > 0) {
    return [
      'fail',
      `environment variables look like secrets: ${suspicious.join(', ')}; pass secrets at run time`,
    ];
  }
  return ['pass', `${i.env.length} environment variables, none looks like a secret`];
}

function immutableTag(input: ChecklistInput): CheckResult {
  const first = input.immutableTags[0];
  if (first)
    return {
      check: 'immutable-tag',
      status: 'pass',
      reason: `tag ${first.tag} is immutable (rule ${first.rule})`,
    };
  return {
    check: 'immutable-tag',
    status: 'fail',
    reason:
      'no immutable tag points at this digest; tag it with a version (1.4.2) or a build tag (main-<sha>-<timestamp>)',
  };
}

function build(input: ChecklistInput): CheckResult {
  if (input.builds.length > 0)
    return { check: 'build', status: 'pass', reason: `built by ${input.builds.join(', ')}` };
  return {
    check: 'build',
    status: 'fail',
    reason: 'no recorded CI build produced this digest; publish build info from CI',
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
