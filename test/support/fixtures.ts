// Fixture layouts for e2e tests: built into a temp dir per test file (tiny ones in milliseconds;
// debian-minbase hard-linked from the per-machine cache, built there on first use).
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures, type FixtureName, type FixtureRecord } from '../fixtures/build.ts';
import { debootstrapUnavailableReason } from '../fixtures/debian.ts';

export { debootstrapUnavailableReason };

export interface PreparedFixtures {
  dir: string;
  record(name: FixtureName): FixtureRecord;
  /** `oci:DIR/<layout>:<ref>` for skopeo/buildah; `ref` defaults to the fixture's main ref. */
  ociRef(name: FixtureName, ref?: string): string;
  /** Absolute path of the fixture's layout directory. */
  layoutDir(name: FixtureName): string;
  cleanup(): Promise<void>;
}

function progress(message: string): void {
  process.stderr.write(`# fixtures: ${message}\n`);
}

export async function prepareFixtures(names: readonly FixtureName[]): Promise<PreparedFixtures> {
  // Lower case only: buildah turns `FROM oci:PATH` into an image name, and names are lower case.
  const dir = join(tmpdir(), `gantry-e2e-fixtures-${randomBytes(6).toString('hex')}`);
  await mkdir(dir);
  try {
    const file = await buildFixtures(dir, { which: names, log: progress });
    const record = (name: FixtureName): FixtureRecord => {
      const r = file.fixtures[name];
      if (!r)
        throw new Error(`fixture ${name} was not prepared (have: ${Object.keys(file.fixtures).join(', ')})`);
      return r;
    };
    return {
      dir,
      record,
      layoutDir: (name) => join(dir, record(name).layout),
      ociRef: (name, ref) => `oci:${join(dir, record(name).layout)}:${ref ?? record(name).ref}`,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
