import type { AccessPolicy } from '../auth/access-policy.ts';
import { compilePatterns } from '../auth/patterns.ts';
import type { Principal } from '../auth/principal.ts';
import type { OutboxEvent, WebhookSubscription } from '../meta/event-records.ts';

/** Who a subscription delivers for: its owner as a principal, and the policy that judges them. */
export interface OwnerLookup {
  /** The owner while still the same, enabled user; undefined once deleted or disabled. */
  principal(subscription: WebhookSubscription): Principal | undefined;
  policy(): AccessPolicy;
}

/**
 * Whether the subscription receives the event: its filters (type, repository, image pattern)
 * match, and its owner may read what the event is about — read on the event's repository and
 * image, through the one access policy; events about no repository (users, groups, permissions,
 * builds, locked logins) only for administrators. Asked at fan-out and again before each attempt,
 * so an owner who lost read access stops receiving at once.
 */
export function receives(
  subscription: WebhookSubscription,
  event: OutboxEvent,
  owners: OwnerLookup,
): boolean {
  if (subscription.events.length > 0 && !subscription.events.includes(event.type)) return false;
  if (subscription.repositories.length > 0) {
    if (event.repository === undefined || !subscription.repositories.includes(event.repository)) return false;
  }
  if (subscription.images.length > 0) {
    const images = compilePatterns({ include: subscription.images, exclude: [] });
    if (event.image === undefined || !images.matches(event.image)) return false;
  }
  const owner = owners.principal(subscription);
  if (owner === undefined) return false;
  if (owner.admin) return true;
  if (event.repository === undefined) return false;
  const policy = owners.policy();
  return event.image === undefined
    ? policy.readsSomethingIn(owner, event.repository)
    : policy.allows(owner, 'read', event.repository, event.image);
}
