import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BUNDLE_NAME, buildApp, runBuildCli } from '../../app/build.ts';
import { signRequest } from '../../app/signing-client.ts';
import { clientKeysDocument, restEvent, SMOKE_CLIENT } from './request-builders.ts';

const FAULT_MARKERS = ['InjectedFault', 'Injected fault', 'rehearsal build'];

type Handler = (event: unknown) => Promise<{ statusCode: number; body: string }>;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-build-'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function loadBundle(file: string): Promise<Handler> {
  const mod = (await import(`${pathToFileURL(file).href}?v=${Date.now()}`)) as { handler: Handler };
  return mod.handler;
}

describe('buildApp', () => {
  it('writes a minified ESM index.mjs with a source map and returns the SHA-256 of its bytes', async () => {
    const built = await buildApp({ outDir: join(dir, 'prod') });
    expect(built.file).toBe(join(dir, 'prod', BUNDLE_NAME));
    const bytes = await readFile(built.file);
    expect(built.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.toString()).toContain('//# sourceMappingURL=index.mjs.map');
    await expect(readFile(`${built.file}.map`)).resolves.toBeTruthy();
  });

  it('the production bundle contains no fault-injection code', async () => {
    const text = await readFile(join(dir, 'prod', BUNDLE_NAME), 'utf8');
    for (const marker of FAULT_MARKERS) expect(text).not.toContain(marker);
  });

  it('is reproducible: the same sources give the same digest', async () => {
    const again = await buildApp({ outFile: join(dir, 'again', 'index.mjs') });
    const first = await readFile(join(dir, 'prod', BUNDLE_NAME));
    expect(again.sha256).toBe(createHash('sha256').update(first).digest('hex'));
  });

  it('the production bundle runs: /health names the version, signed /orders is 200, unsigned is 401', async () => {
    const keysFile = join(dir, 'keys.json');
    await writeFile(keysFile, JSON.stringify(clientKeysDocument()));
    vi.stubEnv('AWS_LAMBDA_FUNCTION_VERSION', '9');
    vi.stubEnv('SWITCHYARD_CLIENT_KEYS_FILE', keysFile);
    const handler = await loadBundle(join(dir, 'prod', BUNDLE_NAME));
    const health = await handler(restEvent({ path: '/health' }));
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', version: '9' });
    const headers = signRequest({ ...SMOKE_CLIENT, method: 'GET', path: '/orders' });
    expect((await handler(restEvent({ path: '/orders', headers: { ...headers } }))).statusCode).toBe(200);
    expect((await handler(restEvent({ path: '/orders' }))).statusCode).toBe(401);
  });

  it('a fault build compiles the faults in: failHealth gives 503 on /health, failRate 1 gives 500 elsewhere', async () => {
    const built = await buildApp({ outDir: join(dir, 'faulty'), fault: { failHealth: true, failRate: 1 } });
    const text = await readFile(built.file, 'utf8');
    expect(text).toContain('Injected fault');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_VERSION', '10');
    const handler = await loadBundle(built.file);
    expect((await handler(restEvent({ path: '/health' }))).statusCode).toBe(503);
    expect((await handler(restEvent({ path: '/version' }))).statusCode).toBe(500);
  });

  it('refuses a fault config out of range', async () => {
    await expect(buildApp({ outDir: join(dir, 'bad'), fault: { failRate: 2 } })).rejects.toThrow(/failRate/);
  });
});

describe('the build CLI (npm run build:app, and the Dockerfile build stage)', () => {
  it('parses fault flags into a rehearsal build', async () => {
    const built = await runBuildCli(['--out-dir', join(dir, 'cli'), '--fail-rate', '0.5', '--latency-ms', '10']);
    expect(built).toMatchObject({ file: join(dir, 'cli', BUNDLE_NAME), fault: true });
    expect(await readFile(built.file, 'utf8')).toContain('Injected fault');
  });

  it('runs under plain Node 24 (type stripping, no tsx) and prints the bundle and its digest', async () => {
    const script = new URL('../../app/build.ts', import.meta.url);
    const { stdout } = await promisify(execFile)(process.execPath, [script.pathname, '--out-dir', join(dir, 'node')]);
    const printed = JSON.parse(stdout) as { file: string; sha256: string; fault: boolean };
    expect(printed).toMatchObject({ file: join(dir, 'node', BUNDLE_NAME), fault: false });
    expect(printed.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('app/Dockerfile', () => {
  it('is multi-stage, builds with esbuild, and ships only the bundle on the Lambda Node 24 base with CMD index.handler', async () => {
    const text = await readFile(new URL('../../app/Dockerfile', import.meta.url), 'utf8');
    const froms = text.split('\n').filter((line) => line.startsWith('FROM '));
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/ AS build$/);
    expect(froms[1]).toBe('FROM public.ecr.aws/lambda/nodejs:24');
    expect(text).toMatch(/RUN npm ci/);
    expect(text).toMatch(/RUN node app\/build\.ts/);
    const finalStage = text.slice(text.lastIndexOf('FROM '));
    const copies = finalStage.split('\n').filter((line) => line.startsWith('COPY'));
    const taskRoot = '$' + '{LAMBDA_TASK_ROOT}';
    expect(copies).toEqual([`COPY --from=build /src/dist/app/ ${taskRoot}/`]);
    expect(finalStage).toContain('CMD ["index.handler"]');
  });

  it('has a .dockerignore that lets in only what the build stage needs', async () => {
    const lines = (await readFile(new URL('../../.dockerignore', import.meta.url), 'utf8')).split('\n');
    expect(lines).toContain('*');
    expect(lines).toEqual(expect.arrayContaining(['!package.json', '!package-lock.json', '!app/']));
  });
});
