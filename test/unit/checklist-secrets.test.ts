import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets } from '../../src/promote/browse-service.ts';
import {
  DEFAULT_LIMITS,
  evaluateChecklist,
  type ImageUnderCheck,
  secretKind,
} from '../../src/promote/checklist.ts';

/** The no-secrets-in-env result for an image with this environment. */
function secretsCheck(env: string[]) {
  const image: ImageUnderCheck = {
    platform: '',
    labels: {},
    annotations: {},
    user: 'app',
    env,
    healthcheck: undefined,
    layerCount: 1,
    size: 1,
  };
  const results = evaluateChecklist({
    images: [image],
    immutableTags: [],
    builds: [],
    limits: DEFAULT_LIMITS,
  });
  const result = results.find((r) => r.check === 'no-secrets-in-env');
  assert.ok(result);
  return result;
}

// Shaped like the real thing, made up for this test: none is or was a live credential. Fixed,
// so the test cannot flake on an unlucky random draw.
const SECRET_VALUES: Record<string, string> = {
  'a GitHub token': 'ghp_0SO407Zwngaxw1DxM1oY2QtPyJRHdwnBPqY9',
  'a GitHub token (fine-grained)': 'github_pat_oYlQTXbOoKPDIcMWAOiEvvawS7bsH0Q0QXuaX4FVzgvTfj8FVPAKa8CiQk4n',
  'a GitLab token': 'glpat-MZfgAn21LzGQ2Sz1RsnU',
  'an AWS access key': 'AKIAIOSFODNN7EXAMPLE',
  'a Slack token': 'xoxb-123456789012-abcdefghijkl',
  'a Stripe key': 'sk_live_asyoa228YinTa6qXQKiL58K8',
  'an npm token': 'npm_asyoa228YinTa6qXQKiL58K82SgUfBd1LSRr',
  'a Gantry API token': 'gat_a1b2c3d4e5f6a7b8_bOlqJgMV0VcAw7TCRxPLfB6LVnMMwHhe',
  'a private key':
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----',
  'an RSA private key': '-----BEGIN RSA PRIVATE KEY-----',
  'a random value': '90HSaoLnXfBMhQsYOZ4PG81mbPJ5qBBcKhhdbvDH',
  'a random value with padding': 'O9cA1q2Cz2TQXPTgXUJwsJtkeUC5Cgw1JUOwY4DaaqEiOh9EUvlBZA==',
  'a random value among words': 'user=app key=MZfgAn21LzGQ2Sz1RsnU8r2QrVy4QrLm region=eu',
  'a JWT':
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV',
};

const HARMLESS: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  IMAGE_DIGEST: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  GIT_COMMIT: '9fceb02d0ae598e95dc970b74767f19372d61af8',
  SOURCE_URL: 'https://github.com/acme/app/tree/main/services/payment-gateway',
  REQUEST_ID: '123e4567-e89b-12d3-a456-426614174000',
  JAVA_OPTS: '-Xms512m -Xmx2048m -XX:+UseG1GC -XX:MaxGCPauseMillis=200',
  NODE_OPTIONS: '--max-old-space-size=4096',
  LANG: 'en_US.UTF-8',
  VERSION: 'v1.2.3-rc.1+build.20240101120000',
  BUILD_TAG: 'main-1a2b3c4-20261125120000',
  MAIN_CLASS: 'org.apache.catalina.startup.Bootstrap',
  BASE: 'python3.11-slim-bookworm-20240101-amd64',
  LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread/',
  NIX_PATH: '/nix/store/0c7hw4sr1x8n4xk9l4fd3z6lnmx0s1n6-glibc-2.37-8/lib',
  WORKSPACE: '/var/lib/jenkins/workspace/build-42/target',
  LONG_WORDS: 'ThisIsAVeryLongCamelCaseValueWithoutDigits',
  JAVA_HOME: '/opt/java/openjdk',
};

describe('checklist: secrets in the environment', () => {
  it('finds secrets by their value, whatever the variable is called, and never prints the value', () => {
    for (const [kind, value] of Object.entries(SECRET_VALUES)) {
      assert.ok(secretKind('SETTING', value), `${kind} was not recognised`);
      const result = secretsCheck([`SETTING=${value}`, 'PATH=/usr/bin']);
      assert.equal(result.status, 'fail', kind);
      assert.match(result.reason, /SETTING \(its value/);
      for (const part of value.split(/[\s\\.]+/).filter((p) => p.length >= 8 && !p.startsWith('-----')))
        assert.ok(!result.reason.includes(part), `${kind}: the reason shows the value: ${result.reason}`);
    }
  });

  it('names the kind: a known format by name, anything else as random', () => {
    assert.equal(secretKind('X', SECRET_VALUES['a GitHub token'] ?? ''), 'its value is a GitHub token');
    assert.equal(secretKind('X', 'AKIAIOSFODNN7EXAMPLE'), 'its value is an AWS access key');
    assert.equal(secretKind('X', '-----BEGIN EC PRIVATE KEY-----'), 'its value is a private key');
    assert.match(secretKind('X', SECRET_VALUES['a random value'] ?? '') ?? '', /looks random/);
    assert.equal(secretKind('DB_PASSWORD', 'x'), 'its name', 'names still count');
    assert.equal(secretKind('DB_PASSWORD', ''), undefined, 'an empty value is no secret');
  });

  it('leaves paths, digests, commit hashes, URLs, UUIDs, options and versions alone', () => {
    for (const [name, value] of Object.entries(HARMLESS))
      assert.equal(secretKind(name, value), undefined, name);
    const result = secretsCheck(Object.entries(HARMLESS).map(([k, v]) => `${k}=${v}`));
    assert.equal(result.status, 'pass', result.reason);
  });

  it('reads the whole value, = signs included', () => {
    const value = SECRET_VALUES['a random value with padding'] ?? '';
    assert.equal(secretsCheck([`CONFIG=${value}`]).status, 'fail');
  });

  it('the image view masks values that look like secrets, by name or value', () => {
    const token = SECRET_VALUES['a GitLab token'];
    const masked = maskSecrets([`UPSTREAM=${token}`, 'API_TOKEN=abc', 'PATH=/usr/bin']);
    assert.equal(masked[2], 'PATH=/usr/bin');
    assert.ok(!masked.join('\n').includes(String(token)));
    assert.ok(!masked.join('\n').includes('abc'));
  });
});
