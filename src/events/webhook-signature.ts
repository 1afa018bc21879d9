import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `Gantry-Signature` header of a webhook delivery: `t=<unix seconds>,v1=<hex>` where hex is
 * HMAC-SHA256 with the subscription's secret over `<t>.<body>`. Signing the timestamp with the
 * body lets a receiver refuse old deliveries replayed by someone who captured one (compare `t`
 * with its clock); a redelivery is signed again with a new `t`.
 */
export const SIGNATURE_HEADER = 'gantry-signature';

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

/**
 * Checks a header against the body, as a receiver would: true when `v1` matches and `t` is
 * within `toleranceSeconds` of `nowSeconds`.
 */
export function verifySignature(options: {
  secret: string;
  body: string;
  header: string | undefined;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const parts = new Map<string, string>();
  for (const item of (options.header ?? '').split(',')) {
    const at = item.indexOf('=');
    if (at > 0) parts.set(item.slice(0, at).trim(), item.slice(at + 1).trim());
  }
  const t = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(t) || given === undefined || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(options.nowSeconds - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(options.secret, t, options.body), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

function hmac(secret: string, unixSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}
