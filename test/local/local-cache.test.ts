import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, buildKey } from '../../app/build.ts';
import { startExecution } from '../../local/engine.ts';
import {
  cachedDefinition,
  definitionValidated,
  hashFilesSync,
  importedFiles,
  MAX_CACHED_BUILDS,
  PACKAGE_LOCK,
  readCachedBuild,
  storeCachedBuild,
} from '../../local/local-cache.ts';
import type { AslDefinition } from '../../state-machine/synthesize.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file as if it had been there before this process started (the cache stores nothing newer). */
function writeOld(path: string, text: string): void {
  writeFileSync(path, text);
  const past = new Date(performance.timeOrigin - 60_000);
  utimesSync(path, past, past);
}

const pass = (result: string): AslDefinition => ({
  StartAt: 'Done',
  States: { Done: { Type: 'Pass', Result: result, End: true } },
});

describe('the cached definition', () => {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const entry = join(src, 'entry.ts');
  const dependency = join(src, 'dependency.ts');
  const cacheDir = join(dir, 'definitions');
  let synthesized = 0;
  const options = () => ({
    entry,
    cacheDir,
    env: {},
    synthesize: async () => pass(`synthesis ${++synthesized} of ${readFileSync(dependency, 'utf8').trim()}`),
  });

  it('lists the entry, the files it imports and, for the packages, the lock file', () => {
    writeOld(entry, "import { value } from './dependency.ts';\nexport const definition = value;\n");
    writeOld(dependency, "export const value = 'one';\n");
    expect(importedFiles(entry).sort()).toEqual([dependency, entry].sort());
    expect(hashFilesSync([PACKAGE_LOCK])[PACKAGE_LOCK]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is synthesized once, then read back until an imported file changes', async () => {
    const first = await cachedDefinition(options());
    expect(first.hit).toBe(false);
    const again = await cachedDefinition(options());
    expect(again).toEqual({ hit: true, definition: first.definition });
    expect(synthesized).toBe(1);

    // A changed dependency is a miss: the definition is synthesized again, never served stale.
    writeOld(dependency, "export const value = 'two';\n");
    const changed = await cachedDefinition(options());
    expect(changed.hit).toBe(false);
    expect(changed.definition.States.Done?.Result).toContain("'two'");
    expect((await cachedDefinition(options())).definition).toEqual(changed.definition);
  });

  it('misses when the CDK environment differs', async () => {
    await cachedDefinition(options());
    const before = synthesized;
    const other = await cachedDefinition({ ...options(), env: { CDK_CONTEXT_JSON: '{"a":1}' } });
    expect(other.hit).toBe(false);
    expect(synthesized).toBe(before + 1);
  });

  it('stores nothing made from a file changed after the process started', async () => {
    writeFileSync(dependency, "export const value = 'three';\n");
    expect((await cachedDefinition(options())).hit).toBe(false);
    expect((await cachedDefinition(options())).hit).toBe(false);
    writeOld(dependency, "export const value = 'three';\n");
  });

  it('refuses a tampered entry, says so, and synthesizes instead', async () => {
    await cachedDefinition(options());
    expect((await cachedDefinition(options())).hit).toBe(true);
    const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    if (!file) throw new Error('no cache entry was written');
    const path = join(cacheDir, file);
    // What a tampered entry did: prod's approval skipped while every recorded input still matched.
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    entry.definition.States.Done.Result = 'approval skipped';
    writeFileSync(path, JSON.stringify(entry));
    const warnings: string[] = [];
    const read = await cachedDefinition({ ...options(), warn: (line) => warnings.push(line) });
    expect(read.hit).toBe(false);
    expect(read.definition.States.Done?.Result).toContain("'three'");
    expect(warnings).toEqual([
      `local cache: ${path} does not match its content hash; not used (it is rebuilt and written again)`,
    ]);
    expect((await cachedDefinition(options())).hit).toBe(true);
  });

  it('falls back to synthesizing when the entry is corrupt', async () => {
    await cachedDefinition(options());
    expect((await cachedDefinition(options())).hit).toBe(true);
    const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    if (!file) throw new Error('no cache entry was written');
    writeFileSync(join(cacheDir, file), '{"key": "truncated');
    const recovered = await cachedDefinition(options());
    expect(recovered.hit).toBe(false);
    expect(recovered.definition.States.Done?.Result).toContain("'three'");
    expect((await cachedDefinition(options())).hit).toBe(true);
  });
});

describe('a stored build', () => {
  const cacheDir = join(dir, 'builds');
  const input = join(dir, 'input.ts');
  const bundle = Buffer.from('export const handler = 1;\n');
  const bundleSha256 = createHash('sha256').update(bundle).digest('hex');
  const build = () => ({
    files: new Map([['index.mjs', bundle]]),
    sha256: bundleSha256,
    inputs: hashFilesSync([input]),
  });

  it('is read back with its bytes while its inputs are unchanged, and not after', () => {
    writeOld(input, 'one');
    storeCachedBuild('app null', build(), Date.now(), cacheDir);
    const read = readCachedBuild('app null', cacheDir);
    expect(read?.sha256).toBe(bundleSha256);
    expect(read?.files.get('index.mjs')?.toString()).toBe('export const handler = 1;\n');
    expect(readCachedBuild('app {"failRate":0.5}', cacheDir)).toBeUndefined();
    writeOld(input, 'two');
    expect(readCachedBuild('app null', cacheDir)).toBeUndefined();
  });

  it('keeps only the most recent builds', () => {
    const pruned = join(dir, 'pruned');
    writeOld(input, 'four');
    const names = Array.from({ length: MAX_CACHED_BUILDS + 2 }, (_, i) => `app ${i}`);
    for (const name of names) {
      storeCachedBuild(name, build(), Date.now(), pruned);
      // A few milliseconds apart, so the files' modification times order them.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    expect(readdirSync(pruned).filter((f) => f.startsWith('build-'))).toHaveLength(MAX_CACHED_BUILDS);
    expect(readCachedBuild(names.at(-1) ?? '', pruned)?.sha256).toBe(bundleSha256);
  });

  it('is refused when its bundle was tampered with, even under the honest digest, and says so', () => {
    const tampered = join(dir, 'tampered');
    writeOld(input, 'five');
    storeCachedBuild('app null', build(), Date.now(), tampered);
    const [file] = readdirSync(tampered).filter((f) => f.startsWith('build-'));
    if (!file) throw new Error('no build was stored');
    const path = join(tampered, file);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    entry.files['index.mjs'] = Buffer.from("export const handler = () => 'TAMPERED';\n").toString('base64');
    writeFileSync(path, JSON.stringify(entry));
    const warnings: string[] = [];
    expect(readCachedBuild('app null', tampered, (line) => warnings.push(line))).toBeUndefined();
    expect(warnings).toEqual([
      `local cache: ${path} does not match its content hash; not used (it is rebuilt and written again)`,
    ]);

    // Rewritten with a matching content hash, the bundle's own bytes still have to give the recorded digest.
    const { integrity: _, ...content } = entry;
    const rehashed = { ...content, integrity: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
    writeFileSync(path, JSON.stringify(rehashed));
    warnings.length = 0;
    expect(readCachedBuild('app null', tampered, (line) => warnings.push(line))).toBeUndefined();
    expect(warnings[0]).toContain('holds a bundle whose SHA-256 is not the recorded one');
  });

  it('is not stored when an input changed after the build started', () => {
    writeOld(input, 'three');
    const startedAt = Date.now() - 120_000;
    storeCachedBuild('late', build(), startedAt, cacheDir);
    expect(readCachedBuild('late', cacheDir)).toBeUndefined();
  });
});

describe('validating a definition once', () => {
  it('records a definition the validator passed, and still refuses an invalid one', async () => {
    const cacheDir = join(dir, 'validated');
    const previous = process.env.SWITCHYARD_CACHE_DIR;
    process.env.SWITCHYARD_CACHE_DIR = cacheDir;
    try {
      const definition = pass(`validated at ${Date.now()}`);
      expect(definitionValidated(definition, cacheDir)).toBe(false);
      const run = startExecution({ definition, handlers: {}, input: {}, executionName: 'once' });
      expect((await run.result).status).toBe('SUCCEEDED');
      expect(definitionValidated(definition, cacheDir)).toBe(true);
      expect(definitionValidated(pass('another'), cacheDir)).toBe(false);
      // The validator still runs on a definition it never passed.
      const invalid = { StartAt: 'Missing', States: { Done: { Type: 'Pass', End: true } } } as AslDefinition;
      expect(() => startExecution({ definition: invalid, handlers: {}, input: {}, executionName: 'bad' })).toThrow(
        /invalid/,
      );
      expect(definitionValidated(invalid, cacheDir)).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.SWITCHYARD_CACHE_DIR;
      else process.env.SWITCHYARD_CACHE_DIR = previous;
    }
  });
});

describe('what a build of the app is keyed on', () => {
  it('covers the build script itself and the tsconfig esbuild follows, so a banner change misses', async () => {
    const built = await buildApp({ outDir: join(dir, 'app-build') });
    const script = join(import.meta.dirname, '../../app/build.ts');
    expect(built.inputs).toContain(script);
    expect(built.inputs).toContain(join(import.meta.dirname, '../../tsconfig.json'));

    // A cached build of this script, read back by one whose banner differs: a miss.
    const cacheDir = join(dir, 'script-change');
    const files = new Map([['index.mjs', readFileSync(built.file)]]);
    storeCachedBuild('app', { files, sha256: built.sha256, inputs: hashFilesSync(built.inputs) }, Date.now(), cacheDir);
    expect(readCachedBuild('app', cacheDir)?.sha256).toBe(built.sha256);
    const [file] = readdirSync(cacheDir).filter((f) => f.startsWith('build-'));
    if (!file) throw new Error('no build was stored');
    const entry = JSON.parse(readFileSync(join(cacheDir, file), 'utf8'));
    const banner = readFileSync(script, 'utf8').replace('const require=', 'const require =');
    const { integrity: _, ...content } = {
      ...entry,
      inputs: { ...entry.inputs, [script]: createHash('sha256').update(banner).digest('hex') },
    };
    const asMadeByAnotherScript = {
      ...content,
      integrity: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    };
    writeFileSync(join(cacheDir, file), JSON.stringify(asMadeByAnotherScript));
    const warnings: string[] = [];
    expect(readCachedBuild('app', cacheDir, (line) => warnings.push(line))).toBeUndefined();
    // An ordinary miss: the entry is intact, it was made by another script.
    expect(warnings).toEqual([]);
  }, 60_000);

  it("names the esbuild version and the faults, so another esbuild's build is never reused", async () => {
    const { version } = await import('esbuild');
    expect(JSON.parse(buildKey(undefined))).toEqual({ esbuild: version, fault: null });
    expect(buildKey({ failRate: 0.5 })).not.toBe(buildKey(undefined));
  });
});
