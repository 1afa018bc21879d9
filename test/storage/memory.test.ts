import { MemoryBlobStore } from '../../src/storage/memory/memory-blob-store.ts';
import { describeBlobStore } from './blob-store-suite.ts';

describeBlobStore('memory', async () => ({ store: new MemoryBlobStore() }));
