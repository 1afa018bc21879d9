import { clip } from '../../oci/digest.ts';

/**
 * The one error type the upstream client throws. `kind` is what a caller branches on (serve a
 * stale copy, answer 503, answer 429 …); `message` is for a person: it names the upstream and
 * the cause and never holds credentials, tokens or a stack.
 */
export type UpstreamErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'denied'
  | 'rate-limited'
  | 'server-error'
  | 'protocol';

export interface UpstreamErrorOptions {
  status?: number;
  /** Raw `Retry-After` of a 429 (seconds or an HTTP date), when the upstream sent one. */
  retryAfter?: string;
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly status?: number;
  readonly retryAfter?: string;

  constructor(
    readonly kind: UpstreamErrorKind,
    /** The upstream's URL without any user info, as it appears in the message. */
    readonly upstream: string,
    message: string,
    options: UpstreamErrorOptions = {},
  ) {
    super(message);
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** The URL as it may be shown: user info (`user:pass@`), query and fragment removed. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Network-level failures of fetch carry a `cause` with a Node/undici error code. */
function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown } | undefined)?.cause ?? err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

const CAUSE_WORDS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections at that address (connection refused)',
  ENOTFOUND: 'the host name does not resolve (DNS lookup failed)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS lookup failed temporarily)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

/** Undici's own words when there is no known code; its messages never hold headers or bodies. */
function describeCause(err: unknown, code: string | undefined): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause ?? err;
  const message = cause instanceof Error ? cause.message : '';
  // fetch refuses the ports browsers block (e.g. 6000, 6665-6669, 10080) before connecting.
  if (message === 'bad port')
    return 'fetch refuses to connect to that port (one of the ports browsers block)';
  if (code) return `the request failed (${code}${message ? `: ${clip(message, 120)}` : ''})`;
  return message ? `the request failed (${clip(message, 120)})` : 'the request failed';
}

/** Turns a fetch rejection (not a caller abort) into an UpstreamError a person can act on. */
export function networkError(upstream: string, target: string, err: unknown): UpstreamError {
  const code = causeCode(err);
  if (code && TIMEOUT_CODES.has(code)) {
    return new UpstreamError('timeout', upstream, `upstream ${upstream} did not answer ${target} in time`);
  }
  const words = (code && CAUSE_WORDS[code]) ?? describeCause(err, code);
  const tls = code?.startsWith('ERR_TLS') || code?.includes('CERT') ? ' (TLS certificate problem)' : '';
  return new UpstreamError(
    'unreachable',
    upstream,
    `upstream ${upstream} is unreachable: ${words}${tls}; check the remote repository's URL and that the upstream is up`,
  );
}
