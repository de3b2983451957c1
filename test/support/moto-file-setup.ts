import type { RunnerTestSuite } from 'vitest';
import { afterAll, inject } from 'vitest';
import { writeMotoRecord } from './moto-report.ts';

/** Every moto test file: its passing tests, counted for the run's summary line (the global setup prints it). */
function passed(suite: Readonly<RunnerTestSuite>): number {
  let count = 0;
  for (const task of suite.tasks) {
    if (task.type === 'suite') count += passed(task);
    else if (task.result?.state === 'pass') count++;
  }
  return count;
}

// biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern before the suite argument
afterAll(({}, suite) => {
  const { reportDir } = inject('moto');
  const file = 'filepath' in suite && typeof suite.filepath === 'string' ? suite.filepath : suite.name;
  writeMotoRecord(reportDir, `passed-${file}`, { file, passed: passed(suite) });
});
