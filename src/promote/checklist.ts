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

/** Values that are secrets whatever the variable is called: formats that say so themselves. */
const SECRET_FORMATS: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'a private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { kind: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/ },
  { kind: 'a GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { kind: 'an AWS access key', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { kind: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Stripe key', pattern: /\b[rs]k_live_[A-Za-z0-9]{16,}/ },
  { kind: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'a Gantry API token', pattern: /\bgat_[a-z0-9]{16}_[A-Za-z0-9_-]{32}/ },
];

/**
 * A run of token characters this long and this random is taken for a generated secret. The
 * traps are the long values images carry legitimately: paths and URLs ('/', '.' and ':' end a
 * run, so their parts stay short), digests and commit hashes (hexadecimal: at most 4 bits per
 * character, and skipped anyway), base32 store hashes such as Nix's (no capitals) and words run
 * together (no digits, about 3.5–4 bits). A run needs capitals, small letters and digits, and
 * 4.2 bits per character or, for short runs that cannot reach
 * that, 85% of the most its length allows (log2 of the length). Measured on random base64url:
 * 32 characters are caught 999 times in 1000, 24 characters 99 in 100; standard base64 less
 * often (85 in 100 at 40 characters), as a '/' may cut it into runs too short to judge.
 */
const RANDOM_RUN = /[A-Za-z0-9+_-]{24,}={0,2}/g;
const MIN_ENTROPY_BITS = 4.2;
const SHORT_RUN_SHARE = 0.85;

/**
 * Why `NAME=value` looks like a secret (its name, its value's format, or a random-looking
 * value), or undefined. The answer never contains the value: it is shown to whoever may read
 * the image's checklist.
 */
export function secretKind(name: string, value: string): string | undefined {
  if (value === '') return undefined;
  if (SECRET_NAME.test(name)) return 'its name';
  for (const { kind, pattern } of SECRET_FORMATS) if (pattern.test(value)) return `its value is ${kind}`;
  for (const [run] of value.matchAll(RANDOM_RUN)) {
    if (/^[0-9a-fA-F]+$/.test(run)) continue;
    if (!/[0-9]/.test(run) || !/[a-z]/.test(run) || !/[A-Z]/.test(run)) continue;
    if (entropyBits(run) >= Math.min(MIN_ENTROPY_BITS, SHORT_RUN_SHARE * Math.log2(run.length)))
      return 'its value looks random (a generated key or token)';
  }
  return undefined;
}

/** Shannon entropy in bits per character of the string's own character frequencies. */
function entropyBits(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

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
  const suspicious: string[] = [];
  for (const entry of i.env) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const why = eq < 0 ? undefined : secretKind(name, entry.slice(eq + 1));
    if (why) suspicious.push(`${name} (${why})`);
  }
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
