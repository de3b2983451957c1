import { describe, expect, it } from 'vitest';
import { InMemoryNonceCache } from '../../app/nonce-cache.ts';

describe('InMemoryNonceCache', () => {
  it('remembers a nonce until its expiry, then forgets it', () => {
    let now = 1000;
    const cache = new InMemoryNonceCache({ nowSeconds: () => now });
    expect(cache.remember('k\nn1', 1300)).toBe(true);
    expect(cache.remember('k\nn1', 1300)).toBe(false);
    now = 1300;
    expect(cache.remember('k\nn1', 1600)).toBe(false);
    now = 1301;
    expect(cache.remember('k\nn1', 1601)).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('prunes expired entries as time moves on', () => {
    let now = 0;
    const cache = new InMemoryNonceCache({ nowSeconds: () => now });
    for (let i = 0; i < 10; i += 1) cache.remember(`n${i}`, 300 + i);
    now = 305;
    cache.remember('late', 605);
    // n0..n4 expired (300..304 < 305); n5..n9 and 'late' remain.
    expect(cache.size).toBe(6);
  });

  it('stays within maxEntries by forgetting the oldest, and counts the evictions', () => {
    const cache = new InMemoryNonceCache({ nowSeconds: () => 0, maxEntries: 3 });
    for (const n of ['a', 'b', 'c', 'd']) cache.remember(n, 300);
    expect(cache.size).toBe(3);
    expect(cache.evictions).toBe(1);
    expect(cache.remember('a', 300)).toBe(true);
    expect(cache.remember('d', 300)).toBe(false);
  });

  it('refuses a non-positive bound', () => {
    expect(() => new InMemoryNonceCache({ nowSeconds: () => 0, maxEntries: 0 })).toThrow(RangeError);
  });
});
