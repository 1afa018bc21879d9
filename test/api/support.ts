/** What the management API tests share: JSON calls to `/api/v1` and checks of problem replies. */
import assert from 'node:assert/strict';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
export type Json = any;

export interface JsonReply {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

/** `method` `<url>/api/v1<path>` with an optional Authorization and JSON body; the reply parsed. */
export async function callApi(
  url: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown } = {},
): Promise<JsonReply> {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: (text ? JSON.parse(text) : undefined) as Json,
  };
}

/** Asserts a problem reply with this status whose detail matches. */
export async function problem(
  reply: Promise<{ status: number; body: Json }>,
  status: number,
  detail: RegExp,
): Promise<void> {
  const { status: got, body } = await reply;
  assert.equal(got, status, JSON.stringify(body));
  assert.equal(body.status, status);
  assert.match(String(body.detail), detail);
}
