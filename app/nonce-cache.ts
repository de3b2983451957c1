/**
 * Remembers (client, nonce) pairs until their timestamp leaves the tolerance window, so a captured request cannot be
 * replayed. `InMemoryNonceCache` holds them per Lambda instance only; the shared stores every instance and version
 * reads (a DynamoDB table on AWS, a directory locally: shared-nonce-stores.ts) catch a replay wherever it lands.
 */
export interface NonceStore {
  /** True when the nonce is new (and is now remembered); false when it was already seen and has not expired. */
  remember(key: string, expiresAtSeconds: number): boolean | Promise<boolean>;
}

export interface NonceCacheOptions {
  /** Bounds memory; beyond it the oldest entries are forgotten first (counted in `evictions`). @default 100_000 */
  readonly maxEntries?: number;
  readonly nowSeconds: () => number;
}

export class InMemoryNonceCache implements NonceStore {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #nowSeconds: () => number;
  #evictions = 0;

  constructor(options: NonceCacheOptions) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) throw new RangeError('maxEntries must be >= 1');
    this.#nowSeconds = options.nowSeconds;
  }

  get size(): number {
    return this.#seen.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  remember(key: string, expiresAtSeconds: number): boolean {
    const now = this.#nowSeconds();
    this.#pruneExpired(now);
    const existing = this.#seen.get(key);
    if (existing !== undefined && existing >= now) return false;
    this.#seen.delete(key);
    while (this.#seen.size >= this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (oldest.done) break;
      this.#seen.delete(oldest.value);
      this.#evictions += 1;
    }
    this.#seen.set(key, expiresAtSeconds);
    return true;
  }

  /** Entries arrive roughly in expiry order, so pruning from the front is cheap and catches nearly all of them. */
  #pruneExpired(now: number): void {
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt >= now) return;
      this.#seen.delete(key);
    }
  }
}
