/**
 * `terraform fmt -check -recursive` without a Terraform binary.
 *
 * Neither the npm registry nor Debian ships terraform or tofu, and HashiCorp downloads are unreachable here.
 * `terraform fmt` is hclwrite's formatter plus three Terraform rewrites (see its `formatSourceCode`): it unwraps
 * interpolation-only strings (`"${var.x}"`), normalises legacy variable types (`"string"`, bare `list`/`map`/`set`)
 * and re-quotes block labels. This runs the same hclwrite formatter, compiled to WASM in `@cdktf/hcl-tools`, and
 * reports any occurrence of the first two rewrites instead of making them; labels are left to the parser in the tests.
 *
 *   npx tsx scripts/terraform-fmt.ts --check infra/terraform   # exit 1 and list files that are not canonical
 *   npx tsx scripts/terraform-fmt.ts --write infra/terraform   # rewrite them with the hclwrite formatter
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from '@cdktf/hcl-tools';

/** The extensions `terraform fmt` formats; JSON variants are left alone, as it does. */
const FORMATTED_EXTENSIONS = ['.tf', '.tfvars', '.tftest.hcl'] as const;

export interface FmtFinding {
  readonly path: string;
  readonly reason: string;
}

/** Files `terraform fmt -recursive` would visit: it skips dot-files and editor backups, and `.terraform/`. */
export async function terraformSourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const name = entry.name;
    if (name.startsWith('.') || name.startsWith('~') || name.endsWith('~') || name.startsWith('#')) {
      continue;
    }
    const path = join(dir, name);
    if (entry.isDirectory()) {
      found.push(...(await terraformSourceFiles(path)));
    } else if (FORMATTED_EXTENSIONS.some((ext) => name.endsWith(ext))) {
      found.push(path);
    }
  }
  return found.sort();
}

const INTERPOLATION_ONLY = /=\s*"\$\{[^"{}]*\}"\s*$/;
const LEGACY_TYPE = /^\s*type\s*=\s*("(?:string|list|map)"|list|map|set)\s*$/;

/** The rewrites `terraform fmt` makes beyond hclwrite's layout, found line by line. */
export function terraformRewrites(source: string): string[] {
  const reasons: string[] = [];
  source.split('\n').forEach((line, i) => {
    if (INTERPOLATION_ONLY.test(line)) {
      reasons.push(`line ${i + 1}: interpolation-only string, write the expression bare`);
    }
    if (LEGACY_TYPE.test(line)) {
      reasons.push(`line ${i + 1}: legacy type expression, write e.g. string or list(any)`);
    }
  });
  return reasons;
}

export async function checkFormatting(dir: string): Promise<FmtFinding[]> {
  const findings: FmtFinding[] = [];
  for (const path of await terraformSourceFiles(dir)) {
    const source = await readFile(path, 'utf8');
    if ((await format(source)) !== source) {
      findings.push({ path, reason: 'layout differs from the canonical format' });
    }
    for (const reason of terraformRewrites(source)) {
      findings.push({ path, reason });
    }
  }
  return findings;
}

async function main(args: readonly string[]): Promise<number> {
  const dir = args.find((a) => !a.startsWith('-')) ?? '.';
  if (args.includes('--write')) {
    for (const path of await terraformSourceFiles(dir)) {
      const source = await readFile(path, 'utf8');
      const formatted = await format(source);
      if (formatted !== source) {
        await writeFile(path, formatted);
        console.log(relative(process.cwd(), path));
      }
    }
  }
  const findings = await checkFormatting(dir);
  for (const finding of findings) {
    console.error(`${relative(process.cwd(), finding.path)}: ${finding.reason}`);
  }
  return findings.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // The Go WASM runtime keeps the event loop alive, so leave explicitly.
  process.exit(await main(process.argv.slice(2)));
}
