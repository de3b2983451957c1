import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small git repository shaped like the app's source: a package.json and a lockfileVersion 3 package-lock.json
 * with production and dev dependencies, for tests that record change sets from real commits.
 */
export class AppRepository {
  readonly dir = mkdtempSync(join(tmpdir(), 'switchyard-app-repo-'));
  private readonly dependencies = new Map<string, { version: string; dev: boolean }>();

  constructor(dependencies: Record<string, string>, devDependencies: Record<string, string> = {}) {
    for (const [name, version] of Object.entries(dependencies)) this.dependencies.set(name, { version, dev: false });
    for (const [name, version] of Object.entries(devDependencies)) this.dependencies.set(name, { version, dev: true });
    this.git('init', '--quiet', '--initial-branch=main');
    this.git('config', 'user.name', 'Ada Lovelace');
    this.git('config', 'user.email', 'ada@example.com');
    this.writeManifests();
    this.commit('Initial commit', { 'README.md': '# app\n' });
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8' }).trim();
  }

  /** Writes the files and commits everything; returns the new commit's sha. */
  commit(subject: string, files: Record<string, string> = {}): string {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(this.dir, path), content);
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', subject);
    return this.head();
  }

  /** Moves a dependency to `version` in both manifests and commits it. */
  upgrade(name: string, version: string, subject = `Upgrade ${name} to ${version}`): string {
    const current = this.dependencies.get(name);
    if (!current) throw new Error(`${name} is not a dependency`);
    this.dependencies.set(name, { ...current, version });
    this.writeManifests();
    return this.commit(subject);
  }

  head(): string {
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeManifests(): void {
    const deps = [...this.dependencies].sort(([a], [b]) => a.localeCompare(b));
    const pick = (dev: boolean) =>
      Object.fromEntries(deps.filter(([, d]) => d.dev === dev).map(([n, d]) => [n, d.version]));
    const manifest = { name: 'app', version: '1.0.0', dependencies: pick(false), devDependencies: pick(true) };
    writeFileSync(join(this.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const lock = {
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': manifest,
        ...Object.fromEntries(
          deps.map(([name, d]) => [
            `node_modules/${name}`,
            {
              version: d.version,
              resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${d.version}.tgz`,
              ...(d.dev ? { dev: true } : {}),
            },
          ]),
        ),
      },
    };
    writeFileSync(join(this.dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  }
}
