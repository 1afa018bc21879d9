/**
 * The host and port methods of addressing: a request that arrives for a mapped host name, or
 * on a mapped extra port, addresses one repository, and its OCI names are image names inside
 * it (`prod.example.com/team/app` is `team/app` in the mapped repository). Other requests use
 * the path method (`host/<repository>/<image>`).
 */
export class Addressing {
  private readonly hosts: Map<string, string>;
  private readonly ports: Map<number, string>;

  constructor(options: { hosts: Record<string, string>; ports: Record<string, string> }) {
    this.hosts = new Map(Object.entries(options.hosts).map(([host, key]) => [host.toLowerCase(), key]));
    this.ports = new Map(Object.entries(options.ports).map(([port, key]) => [Number(port), key]));
  }

  /** Extra ports to listen on, each with the repository it addresses. */
  get extraPorts(): { port: number; repository: string }[] {
    return [...this.ports].map(([port, repository]) => ({ port, repository }));
  }

  get hostNames(): { host: string; repository: string }[] {
    return [...this.hosts].map(([host, repository]) => ({ host, repository }));
  }

  /** The repository a request addresses by the port it arrived on or its Host header, if any. */
  scopeFor(hostHeader: string | undefined, localPort: number | undefined): string | undefined {
    const byPort = localPort === undefined ? undefined : this.ports.get(localPort);
    if (byPort) return byPort;
    if (!hostHeader || this.hosts.size === 0) return undefined;
    return this.hosts.get(hostName(hostHeader));
  }
}

/** `Host` without its port, lower case; `[::1]:5000` → `[::1]`. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}
