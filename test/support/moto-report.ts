import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the moto tests proved, for the one summary line `npm test` prints at the end (the global setup's teardown):
 * each moto test file leaves a record in the run's report directory; only passing tests are counted.
 */
export interface MotoRecord {
  /** The test file, and its passing tests that ran against moto. */
  readonly file?: string;
  readonly passed?: number;
  /** Set by the Terraform test once every environment applied, re-planned clean and destroyed: resources each. */
  readonly terraform?: Readonly<Record<string, number>>;
}

export function writeMotoRecord(reportDir: string, name: string, record: MotoRecord): void {
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, `${name.replace(/[^A-Za-z0-9.-]+/g, '_')}.json`), JSON.stringify(record));
}

/** The run's line: `moto: terraform dev 27 / ... applied, re-planned clean, destroyed; adapters: N contract tests on moto`. */
export function motoSummary(reportDir: string): string {
  let files: string[] = [];
  try {
    files = readdirSync(reportDir).filter((f) => f.endsWith('.json'));
  } catch {
    // no moto test file finished
  }
  const records = files.map((f) => JSON.parse(readFileSync(join(reportDir, f), 'utf8')) as MotoRecord);
  const terraform = records.find((r) => r.terraform)?.terraform;
  const adapters = records
    .filter((r) => r.file?.includes('/test/contract/'))
    .reduce((sum, r) => sum + (r.passed ?? 0), 0);
  const applied = terraform
    ? `terraform ${Object.entries(terraform)
        .map(([env, count]) => `${env} ${count}`)
        .join(' / ')} applied, re-planned clean, destroyed`
    : 'terraform not proven (see the failures above)';
  return `moto: ${applied}; adapters: ${adapters} contract tests on moto`;
}
