import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OciError } from '../../src/oci/errors.ts';
import { paginate, parsePage, parseRange } from '../../src/registry/handlers/request-parsing.ts';

const rangeError = (value: string, size: number) => {
  try {
    parseRange(value, size);
  } catch (e) {
    return e as OciError;
  }
  return undefined;
};

describe('blob Range header', () => {
  it('reads single ranges, open ends and suffixes', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=2-', 10), { start: 2, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=5-100', 10), { start: 5, end: 9 });
    assert.equal(parseRange(undefined, 10), undefined);
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined, 'several ranges: send it all');
  });

  it('answers 416 SIZE_INVALID with the size for unsatisfiable ranges', () => {
    for (const bad of ['bytes=10-', 'bytes=10-20', 'bytes=5-2', 'bytes=-0', 'items=0-1', 'bytes=-']) {
      const error = rangeError(bad, 10);
      assert.equal(error?.code, 'SIZE_INVALID', bad);
      assert.equal(error?.status, 416, bad);
      assert.equal(error?.headers?.['Content-Range'], 'bytes */10');
    }
  });
});

describe('pagination', () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  const store = async (p: { n?: number; last?: string }) => {
    const after = all.filter((x) => p.last === undefined || x > p.last);
    return p.n === undefined ? after : after.slice(0, p.n);
  };

  it('gives n entries and a Link to the next page only when there is one', async () => {
    const first = await paginate({ n: 2 }, '/v2/x/tags/list', store);
    assert.deepEqual(first.items, ['a', 'b']);
    assert.equal(first.headers.Link, '</v2/x/tags/list?n=2&last=b>; rel="next"');
    const lastPage = await paginate({ n: 2, last: 'c' }, '/v2/x/tags/list', store);
    assert.deepEqual(lastPage.items, ['d', 'e']);
    assert.equal(lastPage.headers.Link, undefined);
    assert.deepEqual((await paginate({ n: 0 }, '/p', store)).items, []);
    assert.deepEqual((await paginate({}, '/p', store)).items, all);
  });

  it('refuses an n that is not a number', () => {
    assert.throws(() => parsePage(new URLSearchParams('n=-1')), { code: 'SIZE_INVALID' });
    assert.throws(() => parsePage(new URLSearchParams('n=abc')), { code: 'SIZE_INVALID' });
    assert.deepEqual(parsePage(new URLSearchParams('n=5&last=x')), { n: 5, last: 'x' });
  });
});
