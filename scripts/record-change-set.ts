/**
 * The build stage's change-set record (buildspec.yml, step build/change-set; docs/insight.md):
 *   tsx scripts/record-change-set.ts --digest sha256:… --commit <sha> [--previous-commit <sha>]
 *     [--trivy-report out/trivy-image.json] --out-dir out
 * writes <out-dir>/change-set.json and <out-dir>/sbom.cdx.json (validated CycloneDX) for the buildspec to upload.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readJsonIfPresent, recordChangeSet, sbomKeyOf } from '../local/change-set-recorder.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      digest: { type: 'string' },
      commit: { type: 'string' },
      'previous-commit': { type: 'string' },
      'trivy-report': { type: 'string' },
      'out-dir': { type: 'string', default: 'out' },
      'source-dir': { type: 'string', default: '.' },
    },
  });
  if (!values.digest || !values.commit) {
    process.stderr.write('record-change-set: --digest and --commit are required\n');
    return 2;
  }
  const { changeSet, sbom } = await recordChangeSet({
    sourceDir: values['source-dir'],
    digest: values.digest,
    commit: values.commit,
    previousCommit: values['previous-commit'] || undefined,
    trivyReport: values['trivy-report'] ? await readJsonIfPresent(values['trivy-report']) : undefined,
    sbomKey: sbomKeyOf(values.digest),
    now: new Date(),
  });
  await mkdir(values['out-dir'], { recursive: true });
  await writeFile(join(values['out-dir'], 'sbom.cdx.json'), sbom);
  await writeFile(join(values['out-dir'], 'change-set.json'), `${JSON.stringify(changeSet, null, 2)}\n`);
  process.stdout.write(
    `==> change set of ${changeSet.digest}: ${changeSet.commits.length + changeSet.commitsOmitted} commits, ` +
      `${changeSet.packages.length} packages, ${changeSet.vulnerabilities.length} vulnerabilities\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`record-change-set: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
