import type { Action } from '../meta/identity-records.ts';
import type { ResolvedName } from '../repos/repository-service.ts';
import type { AccessPolicy } from './access-policy.ts';
import type { Principal, RegistryAccess } from './principal.ts';
import { parseScope } from './registry-tokens.ts';

/** How the token endpoint finds what a scope's name addresses; undefined when nothing. */
export interface ScopeResolver {
  read(name: string): ResolvedName | undefined;
  /** Where a write to the name lands; undefined when the name cannot be written. */
  write(name: string): ResolvedName | undefined;
}

const REGISTRY_ACTIONS: Record<string, { action: Action; target: 'read' | 'write' }> = {
  pull: { action: 'read', target: 'read' },
  push: { action: 'deploy', target: 'write' },
  delete: { action: 'delete', target: 'write' },
};

/**
 * The access a registry token gets: for every requested scope, the requested actions the
 * principal's permissions allow; nothing more (asking for more is not an error: the token just
 * lacks it and the registry refuses later, as the token spec says). `*` stands for every
 * action; the catalog scope is granted to anyone, since the catalog shows only what the caller
 * may read.
 */
export function grantScopes(
  scopes: readonly string[],
  principal: Principal,
  policy: AccessPolicy,
  resolver: ScopeResolver,
): RegistryAccess[] {
  const granted: RegistryAccess[] = [];
  for (const raw of scopes) {
    const scope = parseScope(raw);
    if (!scope) continue;
    if (scope.type === 'registry' && scope.name === 'catalog') {
      granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      continue;
    }
    if (scope.type !== 'repository') continue;
    const wanted = scope.actions.includes('*') ? Object.keys(REGISTRY_ACTIONS) : scope.actions;
    const actions = wanted.filter((a) => {
      const meaning = REGISTRY_ACTIONS[a];
      if (!meaning) return false;
      const name = meaning.target === 'read' ? resolver.read(scope.name) : resolver.write(scope.name);
      return name !== undefined && policy.allows(principal, meaning.action, name.repository.key, name.image);
    });
    const existing = granted.find((g) => g.type === 'repository' && g.name === scope.name);
    if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
    else granted.push({ type: 'repository', name: scope.name, actions });
  }
  return granted;
}

/** Scopes from a token request: repeated `scope` parameters, each possibly space-separated. */
export function requestedScopes(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(' ')).filter((s) => s !== '');
}
