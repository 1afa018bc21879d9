/**
 * Slows down password guessing: after `perUser` failed logins for one user name, or `perAddress`
 * from one client address, within `windowSeconds`, further attempts are refused (even with the
 * right password) until the oldest failure leaves the window. A success clears the user's count.
 * In memory, per process.
 */
export interface LoginLimits {
  perUser: number;
  perAddress: number;
  windowSeconds: number;
}

export class LoginLimiter {
  private readonly users = new Map<string, number[]>();
  private readonly addresses = new Map<string, number[]>();

  constructor(
    private readonly limits: LoginLimits,
    private readonly now: () => number = Date.now,
    /** Told once each time a user name or an address reaches its limit (the `login.locked` event). */
    private readonly onLocked?: (lock: { user: string; address: string; by: 'user' | 'address' }) => void,
  ) {}

  /** Seconds to wait before trying again; 0 when an attempt may be made now. */
  retryAfter(user: string, address: string): number {
    const t = this.now();
    return Math.max(
      this.wait(this.users, user, this.limits.perUser, t),
      this.wait(this.addresses, address, this.limits.perAddress, t),
    );
  }

  failed(user: string, address: string): void {
    const t = this.now();
    const byUser = this.push(this.users, user, t) === this.limits.perUser;
    const byAddress = this.push(this.addresses, address, t) === this.limits.perAddress;
    if (byUser) this.onLocked?.({ user, address, by: 'user' });
    else if (byAddress) this.onLocked?.({ user, address, by: 'address' });
  }

  succeeded(user: string): void {
    this.users.delete(user);
  }

  private wait(map: Map<string, number[]>, key: string, limit: number, t: number): number {
    const recent = this.prune(map, key, t);
    if (recent.length < limit) return 0;
    const oldest = recent[recent.length - limit] as number;
    return Math.max(1, Math.ceil((oldest + this.limits.windowSeconds * 1000 - t) / 1000));
  }

  /** Records a failure; returns how many are now within the window. */
  private push(map: Map<string, number[]>, key: string, t: number): number {
    const recent = this.prune(map, key, t);
    recent.push(t);
    map.set(key, recent);
    if (map.size > 100_000) this.sweep(map, t);
    return recent.length;
  }

  private prune(map: Map<string, number[]>, key: string, t: number): number[] {
    const since = t - this.limits.windowSeconds * 1000;
    const recent = (map.get(key) ?? []).filter((at) => at > since);
    if (recent.length === 0) map.delete(key);
    return recent;
  }

  private sweep(map: Map<string, number[]>, t: number): void {
    for (const key of [...map.keys()]) this.prune(map, key, t);
  }
}
