import { ACTIONS, type Action } from '../meta/identity-records.ts';

/**
 * What each action brings with it, so a grant is never useless on its own: deploying needs
 * reading (clients check what exists first), deleting and overwriting a tag is a stronger
 * deploy, and managing a repository covers everything in it. `publish` (recording CI builds)
 * brings nothing and comes with no other action but manage: pushing images must not make
 * someone a witness that a CI build produced them, or the build gate would prove nothing.
 * A deploy, granted or implied, never opens a promotion-only repository (settings.writes): the
 * registry's one write check refuses every push there whoever asks (registry/access-control.ts).
 */
const IMPLIES: Record<Action, readonly Action[]> = {
  read: [],
  annotate: ['read'],
  deploy: ['annotate', 'read'],
  delete: ['deploy', 'annotate', 'read'],
  promote: ['read'],
  manage: ['read', 'annotate', 'deploy', 'delete', 'promote', 'publish'],
  publish: [],
};

/** The granted actions with what they imply, as a bit set (bit i = ACTIONS[i]). */
export function actionBits(actions: readonly Action[]): number {
  let bits = 0;
  for (const a of actions) {
    bits |= bit(a);
    for (const implied of IMPLIES[a]) bits |= bit(implied);
  }
  return bits;
}

export function bit(action: Action): number {
  return 1 << ACTIONS.indexOf(action);
}

export const ALL_ACTIONS = actionBits(ACTIONS);

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

/** Sorted in ACTIONS order, without duplicates. */
export function normaliseActions(actions: readonly Action[]): Action[] {
  return ACTIONS.filter((a) => actions.includes(a));
}

/** The actions of a bit set, in ACTIONS order. */
export function actionsOf(bits: number): Action[] {
  return ACTIONS.filter((a) => (bits & bit(a)) !== 0);
}
