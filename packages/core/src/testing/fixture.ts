/** A fresh thing under test and the way to dispose of it. */
export type Fixture<T> = () => Promise<{ store: T; dispose(): Promise<void> }>;

/** Wraps a test body so it gets a fresh store and always disposes of it. */
export function withFixture<T>(make: Fixture<T>, test: (store: T) => Promise<void>): () => Promise<void> {
  return async () => {
    const { store, dispose } = await make();
    try {
      await test(store);
    } finally {
      await dispose();
    }
  };
}
