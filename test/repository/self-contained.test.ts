import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A relative path written in a file: `..` segments, then names (a dynamic prefix such as `$(dirname "$0")/..` is not one). */
const RELATIVE_PATH = /(?<![\w./$-])\.\.(?=[/'"`\s)]|$)(?:\/\.\.)*(?:\/[\w@.-]+)*/gm;

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && !file.startsWith('docs/') && file !== 'package-lock.json' && !file.endsWith('.png'));
}

/** The relative paths in `text` that resolve outside the repository, from the folder of `file`. */
function pathsOutside(file: string, text: string, root: string = ROOT): string[] {
  const from = dirname(resolve(root, file));
  return [...text.matchAll(RELATIVE_PATH)]
    .map((m) => m[0])
    .filter((path) => relative(root, resolve(from, path)).startsWith('..'));
}

describe('the repository is self-contained', () => {
  it('finds a path that leaves the repository, and accepts one that stays inside', () => {
    expect(pathsOutside('test/app/x.ts', "new URL('../../../shared/samples/e.json', import.meta.url)")).toEqual([
      '../../../shared/samples/e.json',
    ]);
    expect(pathsOutside('README.md', 'see ../shared/DESIGN.md')).toEqual(['../shared/DESIGN.md']);
    expect(pathsOutside('test/app/x.ts', "new URL('../fixtures/e.json', import.meta.url)")).toEqual([]);
    expect(pathsOutside('infra/terraform/environments/dev/main.tf', 'source = "../../modules/app"')).toEqual([]);
    expect(pathsOutside('vitest.config.ts', 'exclude: [...configDefaults.exclude]')).toEqual([]);
  });

  it('has no tracked file outside docs/ that refers to a path outside the repository', () => {
    const offenders = trackedFiles().flatMap((file) =>
      pathsOutside(file, readFileSync(resolve(ROOT, file), 'utf8')).map((path) => `${file}: ${path}`),
    );
    expect(offenders).toEqual([]);
  });
});
