// A second process writing to the same SQLite file, for sqlite.test.ts:
//   node --import tsx test/meta/concurrent-writer.ts <file> <label> <count>
// Opens the store, prints "ready", pushes <count> images to dev/app, tagging each
// `<label>-latest`, then exits 0.
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { pushImage } from './suite/harness.ts';

const [file, label, count] = process.argv.slice(2);
if (file === undefined || label === undefined || count === undefined)
  throw new Error('usage: <file> <label> <count>');
const store = await SqliteMetadataStore.open({ file });
process.stdout.write('ready\n');
try {
  for (let i = 0; i < Number(count); i++) {
    await pushImage(store, {
      repository: 'dev',
      image: 'app',
      label: `${label} ${i}`,
      tag: `${label}-latest`,
    });
  }
} finally {
  await store.close();
}
