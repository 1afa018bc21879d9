import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildNameFrom,
  ciEnvironment,
  PublishInputError,
  parseArtifact,
  parseDependency,
  publishRequest,
} from '../../src/promote/ci-environment.ts';

const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const NOW = new Date('2026-11-25T12:00:00Z');

const GITHUB = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop-api',
  GITHUB_SHA: SHA,
  GITHUB_REF_NAME: 'main',
  GITHUB_RUN_ID: '7012345678',
  GITHUB_RUN_NUMBER: '142',
  GITHUB_WORKFLOW: 'Build & push',
};

const GITLAB = {
  GITLAB_CI: 'true',
  CI_PROJECT_URL: 'https://gitlab.example.com/platform/billing',
  CI_PROJECT_PATH: 'platform/billing',
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_REF_NAME: 'release/2.x',
  CI_JOB_URL: 'https://gitlab.example.com/platform/billing/-/jobs/991',
  CI_PIPELINE_IID: '58',
  CI_PIPELINE_CREATED_AT: '2026-11-25T11:58:00Z',
};

const JENKINS = {
  JENKINS_URL: 'https://jenkins.example/',
  GIT_URL: 'https://git.example/team/app.git',
  GIT_COMMIT: SHA,
  GIT_BRANCH: 'origin/develop',
  BUILD_URL: 'https://jenkins.example/job/team/job/app/31/',
  BUILD_NUMBER: '31',
  JOB_NAME: 'team/app',
};

describe('CI environment → build info', () => {
  it('GitHub Actions: repository and workflow name the build, run number numbers it', () => {
    assert.deepEqual(ciEnvironment(GITHUB), {
      system: 'github-actions',
      name: 'acme-shop-api-Build-push',
      number: '142',
      vcsUrl: 'https://github.com/acme/shop-api',
      revision: SHA,
      branch: 'main',
      ciUrl: 'https://github.com/acme/shop-api/actions/runs/7012345678',
    });
    const enterprise = ciEnvironment({
      ...GITHUB,
      GITHUB_SERVER_URL: 'https://ghe.example/',
      GITHUB_WORKFLOW: '',
    });
    assert.equal(enterprise.vcsUrl, 'https://ghe.example/acme/shop-api');
    assert.equal(enterprise.name, 'acme-shop-api');
  });

  it('GitLab CI: project path, pipeline IID, job URL, pipeline start', () => {
    assert.deepEqual(ciEnvironment(GITLAB), {
      system: 'gitlab',
      name: 'platform-billing',
      number: '58',
      vcsUrl: 'https://gitlab.example.com/platform/billing',
      revision: SHA,
      branch: 'release/2.x',
      ciUrl: 'https://gitlab.example.com/platform/billing/-/jobs/991',
      startedAt: '2026-11-25T11:58:00Z',
    });
  });

  it('Jenkins: job name, build number, Git plugin variables (origin/ dropped from the branch)', () => {
    assert.deepEqual(ciEnvironment(JENKINS), {
      system: 'jenkins',
      name: 'team-app',
      number: '31',
      vcsUrl: 'https://git.example/team/app.git',
      revision: SHA,
      branch: 'develop',
      ciUrl: 'https://jenkins.example/job/team/job/app/31/',
    });
  });

  it('GANTRY_BUILD_NAME and GANTRY_BUILD_NUMBER work alone and win over the CI system', () => {
    assert.deepEqual(ciEnvironment({ GANTRY_BUILD_NAME: 'nightly', GANTRY_BUILD_NUMBER: '2026.11.25' }), {
      system: 'generic',
      name: 'nightly',
      number: '2026.11.25',
    });
    const both = ciEnvironment({ ...GITHUB, GANTRY_BUILD_NAME: 'shop' });
    assert.equal(both.system, 'github-actions');
    assert.equal(both.name, 'shop');
    assert.equal(both.number, '142');
    assert.deepEqual(ciEnvironment({}), { system: 'none' });
    assert.deepEqual(ciEnvironment({ GITHUB_SHA: SHA }), { system: 'none' }, 'one stray variable is no CI');
  });

  it('other CI systems are recognised through env-ci: CircleCI, Buildkite, Azure Pipelines', () => {
    assert.deepEqual(
      ciEnvironment({
        CIRCLECI: 'true',
        CIRCLE_BUILD_NUM: '311',
        CIRCLE_PROJECT_USERNAME: 'acme',
        CIRCLE_PROJECT_REPONAME: 'shop-api',
        CIRCLE_SHA1: SHA,
        CIRCLE_BRANCH: 'main',
        CIRCLE_BUILD_URL: 'https://circleci.com/gh/acme/shop-api/311',
      }),
      {
        system: 'circleci',
        name: 'acme-shop-api',
        number: '311',
        revision: SHA,
        branch: 'main',
        ciUrl: 'https://circleci.com/gh/acme/shop-api/311',
      },
    );
    const buildkite = ciEnvironment({
      BUILDKITE: 'true',
      BUILDKITE_BUILD_NUMBER: '77',
      BUILDKITE_COMMIT: SHA,
      BUILDKITE_BRANCH: 'release',
      BUILDKITE_BUILD_URL: 'https://buildkite.com/acme/shop/builds/77',
      BUILDKITE_ORGANIZATION_SLUG: 'acme',
      BUILDKITE_PROJECT_SLUG: 'shop',
    });
    assert.equal(buildkite.system, 'buildkite');
    assert.equal(buildkite.number, '77');
    assert.equal(buildkite.revision, SHA);
    assert.equal(buildkite.branch, 'release');
    const azure = ciEnvironment({
      BUILD_BUILDURI: 'vstfs:///Build/Build/9',
      BUILD_BUILDNUMBER: '20261125.3',
      BUILD_SOURCEVERSION: SHA,
    });
    assert.equal(azure.system, 'azurePipelines');
    assert.equal(azure.number, '20261125.3');
  });

  it('build names keep to [A-Za-z0-9._-], at most 128', () => {
    assert.equal(buildNameFrom('acme/shop api (main)'), 'acme-shop-api-main');
    assert.equal(buildNameFrom('x'.repeat(200)).length, 128);
  });
});

describe('gantry build publish arguments → request', () => {
  it('flags win over the environment; the environment fills the rest', () => {
    const request = publishRequest(
      {
        number: '143',
        artifact: [`${DIGEST}=acme/shop-api:1.2.0`, DIGEST],
        dependency: ['debian@12.5', `golang@1.22.3@${DIGEST}`, '@scope/lib@2.0.1'],
        durationMs: '61000',
        property: ['runner=linux=amd64'],
      },
      GITHUB,
      NOW,
    );
    assert.deepEqual(request, {
      name: 'acme-shop-api-Build-push',
      number: '143',
      body: {
        startedAt: NOW.toISOString(),
        durationMs: 61000,
        vcs: { url: 'https://github.com/acme/shop-api', revision: SHA, branch: 'main' },
        ciUrl: 'https://github.com/acme/shop-api/actions/runs/7012345678',
        artifacts: [{ digest: DIGEST, name: 'acme/shop-api:1.2.0' }, { digest: DIGEST }],
        dependencies: [
          { name: 'debian', version: '12.5' },
          { name: 'golang', version: '1.22.3', digest: DIGEST },
          { name: '@scope/lib', version: '2.0.1' },
        ],
        properties: { runner: 'linux=amd64' },
      },
    });
    const gitlab = publishRequest({ name: 'billing', revision: 'abc' }, GITLAB, NOW);
    assert.equal(gitlab.name, 'billing');
    assert.equal(gitlab.body.startedAt, '2026-11-25T11:58:00Z');
    assert.equal(gitlab.body.vcs.revision, 'abc');
  });

  it('outside CI, name and number must be given; mistakes say how to write it', () => {
    assert.throws(() => publishRequest({}, {}, NOW), /give --name and --number: no CI environment says it/);
    assert.throws(() => publishRequest({ name: 'x' }, {}, NOW), /give --number/);
    const plain = publishRequest({ name: 'x', number: '1', started: '2026-01-01T00:00:00Z' }, {}, NOW);
    assert.deepEqual(plain.body, {
      startedAt: '2026-01-01T00:00:00Z',
      vcs: {},
      artifacts: [],
      dependencies: [],
      properties: {},
    });
    assert.throws(
      () => publishRequest({ name: 'x', number: '1', started: 'soon' }, {}, NOW),
      PublishInputError,
    );
    assert.throws(
      () => publishRequest({ name: 'x', number: '1', durationMs: '1.5' }, {}, NOW),
      /--duration-ms/,
    );
    assert.throws(() => parseArtifact('team/app:1.0'), /expected <digest>\[=<name>\]/);
    assert.throws(() => parseDependency('debian'), /expected <name>@<version>/);
    assert.throws(() => parseDependency('@scope/lib'), /expected <name>@<version>/);
  });
});
