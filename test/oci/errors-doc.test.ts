import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { OCI_ERRORS } from '../../src/oci/errors.ts';
import { PROJECT_ROOT } from '../support/gantry.ts';
import { SPEC_ERROR_CODES } from '../support/spec-error-codes.ts';

it('the README lists every error code with its status, and no other', async () => {
  const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('The management API'));
  const documented = new Map(
    [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] as string, Number(m[2])]),
  );
  const table = new Map(Object.entries(OCI_ERRORS).map(([code, entry]) => [code, entry.status as number]));
  assert.deepEqual(documented, table);
});

it('the table holds the distribution-spec codes and UNKNOWN, nothing else', () => {
  assert.deepEqual(Object.keys(OCI_ERRORS).sort(), [...SPEC_ERROR_CODES, 'UNKNOWN'].sort());
});
