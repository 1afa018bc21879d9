import type { Need } from './access-control.ts';
import * as base from './handlers/base.ts';
import * as blobs from './handlers/blobs.ts';
import * as discovery from './handlers/discovery.ts';
import * as manifests from './handlers/manifests.ts';
import * as token from './handlers/token.ts';
import * as uploads from './handlers/uploads.ts';
import type { Handler } from './http-types.ts';

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Route {
  name: string;
  /** Method → handler. A path that matches with another method answers UNSUPPORTED (405). */
  methods: Partial<Record<Method, Handler>>;
  /** What each method needs of the caller (access-control.ts) before its handler runs. */
  needs: Partial<Record<Method, Need>>;
  /** Matched against the raw (undecoded) path; named groups become params. */
  pattern: RegExp;
  /** The path template, for building URLs and for the API reference. */
  template: string;
}

const NAME = '(?<name>.+?)';

/**
 * The OCI Distribution API, as data: this table registers the handlers, builds URLs in tests
 * (`urlFor`) and documents the API. Order matters: upload paths come before blob paths.
 */
export const routes = [
  {
    name: 'base',
    template: '/v2/',
    pattern: /^\/v2\/?$/,
    methods: { GET: base.check, HEAD: base.check },
    needs: { GET: 'signed-in', HEAD: 'signed-in' },
  },
  {
    name: 'token',
    template: '/v2/token',
    pattern: /^\/v2\/token$/,
    methods: { GET: token.issue, POST: token.issue },
    needs: { GET: 'none', POST: 'none' },
  },
  {
    name: 'catalog',
    template: '/v2/_catalog',
    pattern: /^\/v2\/_catalog$/,
    methods: { GET: discovery.catalog },
    needs: { GET: 'listing' },
  },
  {
    name: 'tags',
    template: '/v2/{name}/tags/list',
    pattern: new RegExp(`^/v2/${NAME}/tags/list$`),
    methods: { GET: discovery.tags },
    needs: { GET: 'read' },
  },
  {
    name: 'manifest',
    template: '/v2/{name}/manifests/{reference}',
    pattern: new RegExp(`^/v2/${NAME}/manifests/(?<reference>[^/]+)$`),
    methods: { GET: manifests.read, HEAD: manifests.read, PUT: manifests.write, DELETE: manifests.remove },
    needs: { GET: 'read', HEAD: 'read', PUT: 'deploy', DELETE: 'delete' },
  },
  {
    name: 'uploadStart',
    template: '/v2/{name}/blobs/uploads/',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`),
    methods: { POST: uploads.start },
    needs: { POST: 'deploy' },
  },
  {
    name: 'upload',
    template: '/v2/{name}/blobs/uploads/{id}',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/(?<id>[^/]+)$`),
    methods: { GET: uploads.status, PATCH: uploads.patch, PUT: uploads.finish, DELETE: uploads.cancel },
    needs: { GET: 'deploy', PATCH: 'deploy', PUT: 'deploy', DELETE: 'deploy' },
  },
  {
    name: 'blob',
    template: '/v2/{name}/blobs/{digest}',
    pattern: new RegExp(`^/v2/${NAME}/blobs/(?<digest>[^/]+)$`),
    methods: { GET: blobs.read, HEAD: blobs.read, DELETE: blobs.remove },
    needs: { GET: 'read', HEAD: 'read', DELETE: 'delete' },
  },
  {
    name: 'referrers',
    template: '/v2/{name}/referrers/{digest}',
    pattern: new RegExp(`^/v2/${NAME}/referrers/(?<digest>[^/]+)$`),
    methods: { GET: discovery.referrers },
    needs: { GET: 'read' },
  },
] as const satisfies readonly Route[];

export type RouteName = (typeof routes)[number]['name'];

/** `urlFor('manifest', {name: 'docker-dev-local/app', reference: '1.0'})` → `/v2/docker-dev-local/app/manifests/1.0` */
export function urlFor(route: RouteName, params: Record<string, string> = {}): string {
  const found = routes.find((r) => r.name === route);
  if (!found) throw new Error(`no route ${route}`);
  return found.template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`route ${route} needs ${key}`);
    return value;
  });
}

export function matchRoute(path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes as readonly Route[]) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: { ...m.groups } };
  }
  return undefined;
}
