/**
 * Every error code the registry API can answer with, once. Handlers throw `OciError`; the one
 * renderer in registry/error-reply.ts turns it into `{"errors":[{code,message,detail}]}` with the
 * status from this table. The spec's codes come first, ours (PAGINATION_NUMBER_INVALID,
 * NOT_FOUND, REQUEST_INVALID, RANGE_INVALID, UNAVAILABLE, UNKNOWN) after. test/oci/errors.test.ts keeps this table and the README's error section in sync.
 */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
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
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  NOT_FOUND: { status: 404, message: 'no such registry endpoint' },
  REQUEST_INVALID: { status: 400, message: 'malformed HTTP request' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  UNAVAILABLE: { status: 503, message: 'service temporarily unavailable' },
  UNKNOWN: { status: 500, message: 'internal error; the server log has the details' },
} as const satisfies Record<string, { status: number; message: string }>;

export type OciCode = keyof typeof OCI_ERRORS;

/** An error the client caused or must know about, with the spec's code. */
export class OciError extends Error {
  override readonly name = 'OciError';
  constructor(
    readonly code: OciCode,
    message?: string,
    readonly detail?: unknown,
    /** Extra response headers, e.g. `Range` on a 416 for an out-of-order chunk. */
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? OCI_ERRORS[code].message);
  }

  get status(): number {
    return OCI_ERRORS[this.code].status;
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
