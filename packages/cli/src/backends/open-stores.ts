import type { CimmeriaConfig } from '../config/schema.js';
import { openBlobStore, type OpenedBlobStore } from './open-blob-store.js';
import { openMetadataStore, type OpenedMetadata, type OpenMetadataOptions } from './open-metadata.js';

/** Both configured stores, and one way to close them. */
export interface OpenedStores {
  metadata: OpenedMetadata;
  blobs: OpenedBlobStore;
  /** Closes both; a failure to close one does not keep the other open. */
  close(): Promise<void>;
}

/** Opens the metadata database (migrated unless told otherwise) and then the blob store; if the second fails, the first is closed. */
export async function openStores(config: CimmeriaConfig, options: OpenMetadataOptions = {}): Promise<OpenedStores> {
  const metadata = await openMetadataStore(config, options);
  let blobs: OpenedBlobStore;
  try {
    blobs = await openBlobStore(config);
  } catch (error) {
    await metadata.close();
    throw error;
  }
  return {
    metadata,
    blobs,
    close: async () => {
      await Promise.allSettled([metadata.close(), blobs.close()]);
    },
  };
}

/** Runs `work` with both stores open, closing them afterwards whatever happens. */
export async function withStores<T>(config: CimmeriaConfig, work: (stores: OpenedStores) => Promise<T>): Promise<T> {
  const stores = await openStores(config);
  try {
    return await work(stores);
  } finally {
    await stores.close();
  }
}
