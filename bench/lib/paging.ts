import { call, expectStatus, header, type Target } from './client.ts';
import { median, timed } from './stats.ts';

// A walk stops here even if the server keeps sending Link headers (a loop would otherwise hang).
const MAX_PAGES = 60;

export interface Walk {
  pages: number;
  /** Entries on the first page: more than the `n` asked for means the server ignored `n`. */
  firstPage: number;
  entries: number;
  unique: number;
  /** True when the server still offered a next page at MAX_PAGES. */
  truncated: boolean;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string): string | undefined {
  return /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1];
}

/** GETs `path` and follows Link rel=next; `field` is `tags` or `repositories`. */
export async function walkPages(target: Target, path: string, field: 'tags' | 'repositories'): Promise<Walk> {
  const seen = new Set<string>();
  let entries = 0;
  let next: string | undefined = path;
  let pages = 0;
  let firstPage = 0;
  while (next !== undefined && pages < MAX_PAGES) {
    const reply = await call(target, next);
    expectStatus(reply, 200, `GET ${next}`);
    const list = (JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>)[field];
    const names = Array.isArray(list) ? (list as unknown[]).map(String) : [];
    if (pages === 0) firstPage = names.length;
    entries += names.length;
    for (const n of names) seen.add(n);
    pages++;
    next = nextLink(header(reply, 'link'));
  }
  return { pages, firstPage, entries, unique: seen.size, truncated: next !== undefined };
}

/** Runs the walk `runs` times; the median wall time and what the last walk saw. */
export async function medianWalk(
  target: Target,
  path: string,
  field: 'tags' | 'repositories',
  runs: number,
): Promise<{ ms: number; walk: Walk }> {
  const times: number[] = [];
  let walk: Walk = { pages: 0, firstPage: 0, entries: 0, unique: 0, truncated: false };
  for (let i = 0; i < runs; i++) {
    const t = await timed(() => walkPages(target, path, field));
    times.push(t.ms);
    walk = t.result;
  }
  return { ms: median(times), walk };
}

export function describeWalk(walk: Walk): string {
  const more = walk.truncated ? `, still linking to more after ${walk.pages} pages` : '';
  const dupes = walk.entries !== walk.unique ? ` (${walk.unique} unique)` : '';
  return `${walk.pages} page(s), first page ${walk.firstPage}, ${walk.entries} entries in all${dupes}${more}`;
}
