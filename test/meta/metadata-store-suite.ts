import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetadataStore } from '../../src/meta/metadata-store.ts';
import { defineBlobTests } from './suite/blobs.ts';
import { defineCatalogTests } from './suite/catalog.ts';
import { defineEventTests } from './suite/events.ts';
import { defineGcTests } from './suite/gc.ts';
import type { Define } from './suite/harness.ts';
import { defineIdentityTests } from './suite/identity.ts';
import { defineLifecycleTests } from './suite/lifecycle.ts';
import { defineLookupTests } from './suite/lookups.ts';
import { defineManifestTests } from './suite/manifests.ts';
import { definePromotionTests } from './suite/promotion.ts';
import { defineRepositoryTests } from './suite/repositories.ts';
import { defineTagTests } from './suite/tags.ts';
import { defineUploadTests } from './suite/uploads.ts';
import { defineUsageTests } from './suite/usage.ts';

export interface MadeStore {
  /** A new, empty, migrated store. The suite closes it after each test. */
  store: MetadataStore;
  /** Removes what `make` created (files, schemas), after the store is closed. */
  cleanup?: () => Promise<void>;
}

export interface SuiteOptions {
  /** Tests a back end cannot run here (titles as listed by the runner), with the reason shown. */
  skip?: { reason: string; tests: string[] }[];
}

/**
 * The conformance suite of the MetadataStore port: every implementation passes it. Each test gets
 * its own fresh store from `make`, so no test depends on another's rows or on the order they run.
 */
export function describeMetadataStore(
  name: string,
  make: () => Promise<MadeStore>,
  options: SuiteOptions = {},
): void {
  const skipped = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) for (const t of tests) skipped.set(t, reason);

  describe(`MetadataStore: ${name}`, () => {
    let made: MadeStore | undefined;
    beforeEach(async () => {
      made = await make();
    });
    afterEach(async () => {
      const current = made;
      made = undefined;
      await current?.store.close();
      await current?.cleanup?.();
    });

    const define: Define = (title, body) => {
      const reason = skipped.get(title);
      if (reason !== undefined) {
        it(title, { skip: reason }, () => {});
        return;
      }
      it(title, async () => {
        if (made === undefined) throw new Error('make() did not produce a store');
        await body(made.store);
      });
    };

    defineRepositoryTests(define);
    defineBlobTests(define);
    defineManifestTests(define);
    defineTagTests(define);
    defineCatalogTests(define);
    defineUploadTests(define);
    defineGcTests(define);
    defineIdentityTests(define);
    definePromotionTests(define);
    defineLookupTests(define);
    defineUsageTests(define);
    defineLifecycleTests(define);
    defineEventTests(define);
  });
}
