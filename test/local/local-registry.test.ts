import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { filesUnchangedSync, hashFilesSync } from '../../local/local-cache.ts';
import { LocalRegistry } from '../../local/local-registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reusing a build of app/ whose inputs did not change', () => {
  it('matches only while every recorded file keeps its bytes', () => {
    const [a, b] = [join(dir, 'a.ts'), join(dir, 'b.ts')];
    writeFileSync(a, 'export const a = 1;\n');
    writeFileSync(b, 'export const b = 2;\n');
    const recorded = hashFilesSync([a, b]);
    expect(filesUnchangedSync(recorded)).toBe(true);
    writeFileSync(b, 'export const b = 3;\n');
    expect(filesUnchangedSync(recorded)).toBe(false);
    writeFileSync(b, 'export const b = 2;\n');
    expect(filesUnchangedSync(recorded)).toBe(true);
    rmSync(a);
    expect(filesUnchangedSync(recorded)).toBe(false);
    expect(filesUnchangedSync(hashFilesSync([a]))).toBe(false);
  });

  it('gives the same sources and faults the same bundle and digest, and other faults their own build', async () => {
    const registry = new LocalRegistry(join(dir, 'data'), new MemoryImageRegistry(), join(dir, 'cache'));
    const first = await registry.build('switchyard-api', { commit: 'one' });
    const again = await registry.build('switchyard-api', { commit: 'one', tag: 'again' });
    const faultyFirst = await registry.build('switchyard-api', { commit: 'two', fault: { failRate: 0.5 } });
    const faulty = await registry.build('switchyard-api', {
      commit: 'two',
      tag: 'faulty-again',
      fault: { failRate: 0.5 },
    });
    expect(again.digest).toBe(first.digest);
    expect(faulty.digest).not.toBe(first.digest);
    expect(faultyFirst.digest).toBe(faulty.digest);
    const bundle = async (digest: string) => readFileSync((await registry.imageFor(`x@${digest}`)).bundlePath, 'utf8');
    expect((await bundle(again.digest)) === (await bundle(first.digest))).toBe(true);
    // The fault is compiled into the faulty build only: a reused bundle never carries another build's fault.
    expect((await bundle(faulty.digest)).includes('failRate:.5')).toBe(true);
    expect((await bundle(first.digest)).includes('failRate:.5')).toBe(false);
  });
});
