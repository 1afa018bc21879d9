import type { GroupRecord, PermissionTargetRecord } from '../meta/identity-records.ts';

type NewGroup = Pick<GroupRecord, 'name' | 'description'>;
type NewTarget = Omit<PermissionTargetRecord, 'createdAt' | 'updatedAt'>;

/**
 * Created with the administrator on a new instance: the roles of the default pipeline, empty.
 * Adding people to these groups is all a small team has to do.
 */
export const DEFAULT_GROUPS: readonly NewGroup[] = [
  { name: 'readers', description: 'Read every docker repository' },
  { name: 'developers', description: 'Push to development; read every stage' },
  { name: 'release-managers', description: 'Promote to staging and production; manage tags there' },
  { name: 'customers', description: 'Read production through docker-prod' },
  { name: 'ci', description: 'CI identities: push to development and publish build records' },
];

const ALL_IMAGES = { include: ['**'], exclude: [] };

export const DEFAULT_TARGETS: readonly NewTarget[] = [
  {
    name: 'docker-read',
    description: 'Reading every docker repository',
    repositories: { include: ['docker', 'docker-*'], exclude: [] },
    images: ALL_IMAGES,
    grants: {
      users: {},
      groups: { readers: ['read'], developers: ['read'], 'release-managers': ['read'] },
      anonymous: [],
    },
  },
  {
    name: 'development',
    description: 'Pushing to development (directly or through the virtual docker)',
    // The virtual `docker` is here so a token scoped to this target can push through it (clients
    // read before they write); what lands is checked on docker-dev-local itself.
    repositories: { include: ['docker-dev-local', 'docker'], exclude: [] },
    images: ALL_IMAGES,
    // Only `ci` may publish build records: the build gate of production counts them as proof
    // that CI built an image, which a developer's push must not be able to forge.
    grants: {
      users: {},
      groups: { developers: ['delete'], 'release-managers': ['delete'], ci: ['deploy', 'publish'] },
      anonymous: [],
    },
  },
  {
    name: 'release',
    description: 'Promoting into staging and production',
    repositories: { include: ['docker-staging-local', 'docker-prod-local'], exclude: [] },
    images: ALL_IMAGES,
    grants: { users: {}, groups: { 'release-managers': ['annotate', 'delete', 'promote'] }, anonymous: [] },
  },
  {
    name: 'production',
    description: 'Reading production; grant anonymous read here to publish it',
    // A virtual repository is an address, never a grant: reading through docker-prod needs read
    // on the member that serves the content too, so the target covers both.
    repositories: { include: ['docker-prod', 'docker-prod-local'], exclude: [] },
    images: ALL_IMAGES,
    grants: { users: {}, groups: { customers: ['read'] }, anonymous: [] },
  },
];
