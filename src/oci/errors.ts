/**
 * Every error code the registry API can answer with, once. Handlers throw `OciError`; the one
 * renderer in registry/registry-plugin.ts turns it into `{"errors":[{code,message,detail}]}` with
 * the status from this table. The codes are the distribution-spec's table and nothing else,
 * except UNKNOWN for faults of ours (the spec has no code for them; distribution and the clients
 * built on it know UNKNOWN). `also` lists the other statuses the spec asks for with a code, e.g.
 * 416 for an upload chunk that does not follow on. test/oci/errors-doc.test.ts keeps this table
 * and the README's error section in sync.
 */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid', also: [416] },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: {
    status: 404,
    message: 'manifest references a manifest or blob unknown to registry',
  },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length', also: [413, 416] },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported', also: [400, 404] },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNKNOWN: { status: 500, message: 'internal error; the server log has the details', also: [503] },
} as const satisfies Record<string, { status: number; message: string; also?: readonly number[] }>;

export type OciCode = keyof typeof OCI_ERRORS;

/** The statuses a code may be answered with: its own and the `also` ones. */
export function statusesOf(code: OciCode): readonly number[] {
  const entry: { status: number; also?: readonly number[] } = OCI_ERRORS[code];
  return [entry.status, ...(entry.also ?? [])];
}

/** An error the client caused or must know about, with the spec's code. */
export class OciError extends Error {
  override readonly name = 'OciError';
  readonly #status: number;
  constructor(
    readonly code: OciCode,
    message?: string,
    readonly detail?: unknown,
    /** Extra response headers, e.g. `Range` on a 416 for an out-of-order chunk. */
    readonly headers?: Record<string, string>,
    /** One of the code's `also` statuses instead of its usual one. */
    status?: number,
  ) {
    super(message ?? OCI_ERRORS[code].message);
    if (status !== undefined && !statusesOf(code).includes(status)) {
      throw new Error(`status ${status} is not one the error table allows for ${code}`);
    }
    this.#status = status ?? OCI_ERRORS[code].status;
  }

  get status(): number {
    return this.#status;
  }

  toBody(): { errors: { code: OciCode; message: string; detail?: unknown }[] } {
    const entry: { code: OciCode; message: string; detail?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

/** At most this many items of a list go into an error's message or detail (see `bounded`). */
export const MAX_LISTED = 10;

/**
 * The first MAX_LISTED items and how many there are: an error body names what is wrong without
 * growing with the request (a manifest with 10,000 missing layers must not answer 1.7 MB).
 */
export function bounded<T>(items: readonly T[]): { first: T[]; count: number; more: number } {
  const first = items.slice(0, MAX_LISTED);
  return { first, count: items.length, more: items.length - first.length };
}
