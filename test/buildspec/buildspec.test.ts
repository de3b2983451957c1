import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseChangeSet } from '../../core/insight/change-set.ts';
import { AppRepository } from '../support/app-repository.ts';
import { allCommands, type Buildspec, loadBuildspec, PUSHED_DIGEST, runStage } from './codebuild-harness.ts';

// No Docker, Trivy, Terraform or AWS here: the buildspec is parsed, and its commands are run by bash with those
// executables replaced by stubs that record how they were called.

let spec: Buildspec;

beforeAll(async () => {
  spec = await loadBuildspec();
});

const COMMIT = 'c0ffee12'.repeat(5);
const REPOSITORY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/switchyard-api';
const RELEASE_DIGEST = `sha256:${'cd'.repeat(32)}`;

const buildEnv = {
  SWITCHYARD_STAGE: 'build',
  CODEBUILD_RESOLVED_SOURCE_VERSION: COMMIT,
  ECR_REPOSITORY_URI: REPOSITORY,
  SCAN_RECORDS_BUCKET: 'scan-records',
};

/** What the state machine's "Scan & provision" step passes, plus what the CDK stack sets on the project. */
const releaseEnv = {
  SWITCHYARD_STAGE: 'release',
  SWITCHYARD_ENVIRONMENT: 'prod',
  IMAGE_DIGEST: RELEASE_DIGEST,
  IMAGE_URI: `${REPOSITORY}@${RELEASE_DIGEST}`,
  RELEASE_ID: 'rel-42',
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:switchyard-alerts',
  TF_STATE_BUCKET: 'state-bucket',
  TF_LOCK_TABLE: 'lock-table',
  SCAN_RECORDS_BUCKET: 'scan-records',
};

/** A fresh S3 stand-in kept across runs, removed after `use`. */
async function withS3<T>(use: (s3Dir: string) => Promise<T>): Promise<T> {
  const s3Dir = await mkdtemp(join(tmpdir(), 'switchyard-codebuild-s3-'));
  try {
    return await use(s3Dir);
  } finally {
    await rm(s3Dir, { recursive: true, force: true });
  }
}

const recordPath = (s3Dir: string, digest: string) => join(s3Dir, 'scan-records', 'image-scans', `${digest}.json`);

interface ScanRecord {
  digest: string;
  passed: boolean;
  trivyVersion: string;
  gate: string;
  ignorefileSha256: string;
  scannedAt: number;
  scannedBy: string;
}

/** The index of the first call matching each pattern; -1 where none does. */
function positions(calls: string[], patterns: RegExp[]): number[] {
  return patterns.map((p) => calls.findIndex((call) => p.test(call)));
}

describe('buildspec.yml, as a file', () => {
  it('is buildspec 0.2 in bash, defaulting to the build stage, and every phase aborts on failure', () => {
    expect(spec.env.variables.SWITCHYARD_STAGE).toBe('build');
    for (const [name, phase] of Object.entries(spec.phases)) {
      expect(phase?.['on-failure'], name).toBe('ABORT');
    }
  });

  it('holds only commands bash can parse', () => {
    for (const command of allCommands(spec)) {
      const check = spawnSync('bash', ['-n'], { input: command, encoding: 'utf8' });
      expect(check.stderr, command).toBe('');
      expect(check.status, command).toBe(0);
    }
  });

  it('runs every multi-line step fail-fast, naming the step when it fails', () => {
    for (const command of allCommands(spec).filter((c) => c.trim().startsWith('('))) {
      expect(command, command).toMatch(/set -e?uo pipefail|fail\(\)/);
      if (!command.includes('exit 0')) continue;
      expect(command, command).toMatch(/FAILED \[(install|build|release)\/[a-z-]+\]/);
    }
  });

  it('reports the JUnit results and Cobertura coverage that the test step writes', () => {
    const testStep = allCommands(spec).find((c) => c.includes('npm run test:unit')) ?? '';
    expect(testStep).toContain('--reporter=junit --outputFile.junit=test-results/junit.xml');
    expect(testStep).toContain('--coverage.reporter=cobertura');
    expect(Object.values(spec.reports)).toEqual([
      { 'base-directory': 'test-results', files: ['junit.xml'], 'file-format': 'JUNITXML' },
      { 'base-directory': 'coverage', files: ['cobertura-coverage.xml'], 'file-format': 'COBERTURAXML' },
    ]);
  });

  it('caches the npm cache, the Trivy database, the Terraform providers and binary where the tools look', () => {
    const vars = spec.env.variables;
    expect(spec.cache.paths).toEqual([
      `${vars.npm_config_cache}/**/*`,
      `${vars.TRIVY_CACHE_DIR}/**/*`,
      `${vars.TF_PLUGIN_CACHE_DIR}/**/*`,
      `${vars.TERRAFORM_CACHE_DIR}/**/*`,
    ]);
  });

  it('keeps everything under out/ as the artifact, and exports the image digest and URI', () => {
    expect(spec.artifacts).toEqual({ 'base-directory': 'out', files: ['**/*'] });
    expect(spec.env['exported-variables']).toEqual(['IMAGE_DIGEST', 'IMAGE_URI']);
  });
});

describe('the build stage', () => {
  it('lints, tests, audits and scans before it builds, scans the image, pushes git-<sha> and records the digest', async () => {
    const run = await runStage(spec, buildEnv);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.status).toBe(0);
    const image = `${REPOSITORY}:git-${COMMIT}`;
    const order = positions(run.calls, [
      /^npm ci\b/,
      /^npm run lint$/,
      /^npm run typecheck$/,
      /^npm run test:unit -- --coverage .*--reporter=junit/,
      /^npm audit --omit=dev --audit-level=high$/,
      /^trivy fs .*--exit-code 1 --severity HIGH,CRITICAL \.$/,
      new RegExp(`^docker build --platform linux/arm64 --provenance=false -f app/Dockerfile .*-t ${image} \\.$`),
      new RegExp(`^trivy image .*--exit-code 1 --severity HIGH,CRITICAL ${image}$`),
      new RegExp(`^docker push ${image}$`),
    ]);
    expect(
      order.every((p) => p >= 0),
      `calls:\n${run.calls.join('\n')}`,
    ).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(run.calls.some((c) => c.startsWith('terraform '))).toBe(false);
    expect(JSON.parse(run.artifacts['image.json'] ?? '{}')).toEqual({
      repository: 'switchyard-api',
      tag: `git-${COMMIT}`,
      digest: PUSHED_DIGEST,
      imageUri: `${REPOSITORY}@${PUSHED_DIGEST}`,
      commit: COMMIT,
    });
    expect(run.exported).toEqual({ IMAGE_DIGEST: PUSHED_DIGEST, IMAGE_URI: `${REPOSITORY}@${PUSHED_DIGEST}` });
  });

  it('records the passing image scan by the pushed digest, with what the release stage needs to trust it', async () => {
    await withS3(async (s3Dir) => {
      const before = Math.floor(Date.now() / 1000);
      const run = await runStage(spec, buildEnv, { s3Dir });
      expect(run.status).toBe(0);
      const record = JSON.parse(readFileSync(recordPath(s3Dir, PUSHED_DIGEST), 'utf8')) as ScanRecord;
      expect(record).toMatchObject({
        digest: PUSHED_DIGEST,
        passed: true,
        trivyVersion: spec.env.variables.TRIVY_VERSION,
        gate: 'HIGH,CRITICAL',
      });
      expect(record.ignorefileSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(record.scannedAt).toBeGreaterThanOrEqual(before);
      expect(run.artifacts['image-scan.json']).toBe(readFileSync(recordPath(s3Dir, PUSHED_DIGEST), 'utf8'));
      const [push, upload] = positions(run.calls, [
        /^docker push /,
        /^aws s3 cp .* s3:\/\/scan-records\/image-scans\//,
      ]);
      expect(upload).toBeGreaterThan(push ?? Number.POSITIVE_INFINITY);
    });
  });

  it('still succeeds when the scan record cannot be written: the image is pushed, the release scans it instead', async () => {
    await withS3(async (s3Dir) => {
      const run = await runStage(spec, { ...buildEnv, STUB_S3_PUT_EXIT: '1' }, { s3Dir });
      expect(run.status).toBe(0);
      expect(run.stderr).toContain(
        `WARNING [build/scan-record]: the passing scan of ${PUSHED_DIGEST} was not recorded`,
      );
      expect(existsSync(recordPath(s3Dir, PUSHED_DIGEST))).toBe(false);
      expect(run.exported.IMAGE_DIGEST).toBe(PUSHED_DIGEST);
    });
  });

  describe('records the change set of the pushed image', () => {
    const trivyReport = {
      Results: [
        {
          Target: 'app',
          Vulnerabilities: [
            { VulnerabilityID: 'CVE-2026-1', PkgName: 'zod', InstalledVersion: '4.1.0', Severity: 'MEDIUM' },
          ],
        },
      ],
    };

    it('with the commits since the previous image, a CycloneDX SBOM that validates, and the scan findings', async () => {
      const repo = new AppRepository({ zod: '4.1.0', '@smithy/types': '4.0.0' }, { vitest: '5.1.1' });
      try {
        const previous = repo.head();
        repo.commit('Add the orders route', { 'orders.ts': 'export {};\n' });
        const commit = repo.upgrade('zod', '4.2.0');
        await withS3(async (s3Dir) => {
          const run = await runStage(
            spec,
            {
              ...buildEnv,
              CODEBUILD_RESOLVED_SOURCE_VERSION: commit,
              STUB_PREVIOUS_TAGS: [`git-${commit}`, 'latest', `git-${previous}`, `git-${'e'.repeat(40)}`].join('\t'),
              STUB_TRIVY_REPORT: JSON.stringify(trivyReport),
            },
            { s3Dir, source: repo.dir },
          );
          expect(run.stderr).not.toMatch(/FAILED|WARNING/);
          expect(run.status).toBe(0);
          const recorded = parseChangeSet(
            JSON.parse(readFileSync(join(s3Dir, 'scan-records', 'change-sets', `${PUSHED_DIGEST}.json`), 'utf8')),
          );
          expect(recorded).toMatchObject({
            digest: PUSHED_DIGEST,
            commit,
            previousCommit: previous,
            commitsOmitted: 0,
          });
          // The pointer the release's diff follows from a commit to its build (changeSetOfCommit).
          expect(
            JSON.parse(readFileSync(join(s3Dir, 'scan-records', 'change-sets', 'commits', `${commit}.json`), 'utf8')),
          ).toEqual({ digest: PUSHED_DIGEST });
          expect(recorded.commits.map((c) => c.subject)).toEqual(['Upgrade zod to 4.2.0', 'Add the orders route']);
          expect(recorded.commits.every((c) => c.author === 'Ada Lovelace')).toBe(true);
          // What ships: production dependencies only, at the built commit's versions.
          expect(recorded.packages).toEqual([
            { name: '@smithy/types', version: '4.0.0' },
            { name: 'zod', version: '4.2.0' },
          ]);
          expect(recorded.vulnerabilities).toEqual([
            { id: 'CVE-2026-1', severity: 'MEDIUM', package: 'zod', installedVersion: '4.1.0' },
          ]);
          const sbom = readFileSync(join(s3Dir, 'scan-records', 'sboms', `${PUSHED_DIGEST}.cdx.json`), 'utf8');
          expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(sbom)).toBeNull();
          expect(JSON.parse(sbom)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
          expect(run.artifacts['sbom.cdx.json']).toBe(sbom);
          const [push, record] = positions(run.calls, [/^docker push /, /^npx tsx scripts\/record-change-set\.ts /]);
          expect(record).toBeGreaterThan(push ?? Number.POSITIVE_INFINITY);
        });
      } finally {
        repo.remove();
      }
    });

    it("deepens a shallow clone until it holds the previous image's commit", async () => {
      const origin = new AppRepository({ zod: '4.1.0' });
      const shallow = await mkdtemp(join(tmpdir(), 'switchyard-shallow-'));
      try {
        const previous = origin.head();
        for (let i = 1; i <= 3; i++) origin.commit(`Change ${i}`);
        const commit = origin.head();
        spawnSync('git', ['clone', '--quiet', '--depth=1', `file://${origin.dir}`, shallow]);
        await withS3(async (s3Dir) => {
          const run = await runStage(
            spec,
            { ...buildEnv, CODEBUILD_RESOLVED_SOURCE_VERSION: commit, STUB_PREVIOUS_TAGS: `git-${previous}` },
            { s3Dir, source: shallow },
          );
          expect(run.stderr).not.toContain('FAILED');
          const recorded = parseChangeSet(
            JSON.parse(readFileSync(join(s3Dir, 'scan-records', 'change-sets', `${PUSHED_DIGEST}.json`), 'utf8')),
          );
          expect(recorded.commits.map((c) => c.subject)).toEqual(['Change 3', 'Change 2', 'Change 1']);
          expect(recorded.previousCommit).toBe(previous);
        });
      } finally {
        origin.remove();
        await rm(shallow, { recursive: true, force: true });
      }
    });

    it('fails the step, naming it, when the source is not a repository it can read', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'switchyard-not-a-repo-'));
      try {
        const run = await runStage(spec, buildEnv, { source: empty });
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain('FAILED [build/change-set]');
        expect(run.calls.some((c) => c.startsWith('docker push'))).toBe(true);
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });

    it('still succeeds when the change set cannot be uploaded, and says so', async () => {
      const repo = new AppRepository({ zod: '4.1.0' });
      try {
        const run = await runStage(
          spec,
          { ...buildEnv, CODEBUILD_RESOLVED_SOURCE_VERSION: repo.head(), STUB_S3_PUT_EXIT: '1' },
          { source: repo.dir },
        );
        expect(run.status).toBe(0);
        expect(run.stderr).toContain(`WARNING [build/change-set]: the change set of ${PUSHED_DIGEST} was not recorded`);
      } finally {
        repo.remove();
      }
    });
  });

  it('refuses to build without the bucket that keeps scan records', async () => {
    const run = await runStage(spec, { ...buildEnv, SCAN_RECORDS_BUCKET: '' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('FAILED [build/docker-build]: SCAN_RECORDS_BUCKET is empty');
    expect(run.calls.some((c) => c.startsWith('docker build'))).toBe(false);
  });

  it('pushes nothing when the image scan finds HIGH or CRITICAL vulnerabilities', async () => {
    const run = await runStage(spec, { ...buildEnv, STUB_TRIVY_IMAGE_EXIT: '1' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('FAILED [build/trivy-image]');
    expect(run.calls.some((c) => c.startsWith('docker push'))).toBe(false);
    expect(run.artifacts['trivy-image.json']).toBeDefined();
  });

  it('downloads Trivy once per build host: the verified binary is kept in the build cache', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'switchyard-codebuild-cache-'));
    try {
      const first = await runStage(spec, buildEnv, { cacheDir });
      expect(first.status).toBe(0);
      expect(first.calls.filter((c) => c.startsWith('curl ') && c.includes('aquasecurity/trivy'))).toHaveLength(2);
      const second = await runStage(spec, buildEnv, { cacheDir });
      expect(second.status).toBe(0);
      expect(second.calls.some((c) => c.startsWith('curl '))).toBe(false);
      expect(second.stdout).toContain(`trivy ${spec.env.variables.TRIVY_VERSION} from the build cache`);
      // The scans still run, with the cached binary and its cached database.
      expect(second.calls.filter((c) => c.startsWith('trivy image')).length).toBe(1);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('gates on fixable HIGH and CRITICAL findings; unfixed ones and accepted, unexpired ones are reported only', async () => {
    const run = await runStage(spec, buildEnv);
    const scan = run.calls.find((c) => c.startsWith('trivy image'));
    expect(scan).toContain('--ignore-unfixed --ignorefile .trivyignore.yaml');
    expect(scan).toContain('--exit-code 1 --severity HIGH,CRITICAL');
  });

  it('builds nothing when the filesystem scan fails', async () => {
    const run = await runStage(spec, { ...buildEnv, STUB_TRIVY_FS_EXIT: '1' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('FAILED [build/trivy-fs]');
    expect(run.calls.some((c) => c.startsWith('docker '))).toBe(false);
  });

  it('refuses to tag an image without a commit sha', async () => {
    const run = await runStage(spec, { ...buildEnv, CODEBUILD_RESOLVED_SOURCE_VERSION: 'main' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('CODEBUILD_RESOLVED_SOURCE_VERSION is not a commit sha');
    expect(run.calls.some((c) => c.startsWith('docker build'))).toBe(false);
  });
});

describe('the release stage', () => {
  it('scans the image by digest, then runs terraform init, plan -out and apply of that plan for the environment', async () => {
    const run = await runStage(spec, releaseEnv);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.status).toBe(0);
    const [scan, init, plan, apply] = positions(run.calls, [
      /^trivy image /,
      /^terraform init /,
      /^terraform plan /,
      /^terraform apply /,
    ]);
    expect([scan, init, plan, apply].every((p) => p !== undefined && p >= 0)).toBe(true);
    expect([scan, init, plan, apply]).toEqual([scan, init, plan, apply].sort((a = 0, b = 0) => a - b));
    const call = (i: number | undefined) => run.calls[i ?? -1] ?? '';
    expect(call(scan)).toMatch(
      new RegExp(
        `--image-src remote .*--exit-code 1 --severity HIGH,CRITICAL ${releaseEnv.IMAGE_URI.replace(/[.]/g, '\\.')}$`,
      ),
    );
    expect(call(init)).toContain('-reconfigure -backend-config=key=switchyard/prod/terraform.tfstate');
    expect(call(init)).toContain('-backend-config=bucket=state-bucket');
    expect(call(init)).toContain('-backend-config=dynamodb_table=lock-table');
    expect(call(init)).toContain('-backend-config=region=eu-west-1');
    const planFile = /-out=(\S+)/.exec(call(plan))?.[1] ?? '';
    expect(planFile).toMatch(/\/out\/release\/prod\/tfplan$/);
    expect(call(plan)).toContain('-detailed-exitcode');
    expect(call(plan)).toMatch(/ -var-file=\S*\/infra\/terraform\/environments\/prod\.tfvars\.json /);
    expect(call(plan)).toContain(`-var=image_uri=${releaseEnv.IMAGE_URI}`);
    expect(call(plan)).toContain(`-var=alerts_topic_arn=${releaseEnv.ALERTS_TOPIC_ARN}`);
    expect(call(apply)).toBe(`terraform apply -input=false -lock-timeout=5m ${planFile}`);
    expect(run.calls.some((c) => /^(docker|npm|npx) /.test(c))).toBe(false);
    expect(Object.keys(run.artifacts).sort()).toEqual(
      expect.arrayContaining([
        'release/prod/tfplan',
        'release/prod/plan.txt',
        'release/prod/plan.json',
        'release/prod/trivy-image.json',
        'release/prod/outputs.json',
        'release/prod/image-scan.json',
      ]),
    );
    expect(run.artifacts['release/prod/plan-changes.txt']).toBe('some\n');
    expect(JSON.parse(run.artifacts['release/prod/release.json'] ?? '{}')).toEqual({
      releaseId: 'rel-42',
      environment: 'prod',
      imageUri: releaseEnv.IMAGE_URI,
      imageDigest: RELEASE_DIGEST,
    });
  });

  it('reads the state bucket and lock table from the CDK stack outputs when they are not set', async () => {
    const { TF_STATE_BUCKET: _bucket, TF_LOCK_TABLE: _table, ...rest } = releaseEnv;
    const run = await runStage(spec, { ...rest, SWITCHYARD_STACK_NAME: 'Switchyard' });
    expect(run.status).toBe(0);
    expect(run.calls).toContainEqual(
      expect.stringMatching(/cloudformation describe-stacks --stack-name Switchyard .*TerraformStateBucketName/),
    );
    const init = run.calls.find((c) => c.startsWith('terraform init')) ?? '';
    expect(init).toContain('-backend-config=bucket=stack-state-bucket');
    expect(init).toContain('-backend-config=dynamodb_table=stack-lock-table');
  });

  it.each(['dev', 'staging', 'prod'])('plans %s from the one root with its own state key and tfvars', async (name) => {
    const run = await runStage(spec, { ...releaseEnv, SWITCHYARD_ENVIRONMENT: name });
    expect(run.status).toBe(0);
    const init = run.calls.find((c) => c.startsWith('terraform init')) ?? '';
    const plan = run.calls.find((c) => c.startsWith('terraform plan')) ?? '';
    expect(init).toContain(`-backend-config=key=switchyard/${name}/terraform.tfstate`);
    expect(plan).toContain(`/infra/terraform/environments/${name}.tfvars.json `);
    expect(plan).toContain(`/out/release/${name}/tfplan`);
  });

  it('skips apply when the plan reports no changes (exit 0), and still records the outputs', async () => {
    const run = await runStage(spec, { ...releaseEnv, STUB_TERRAFORM_PLAN_EXIT: '0' });
    expect(run.stderr).not.toContain('FAILED');
    expect(run.status).toBe(0);
    expect(run.calls.some((c) => c.startsWith('terraform plan'))).toBe(true);
    expect(run.calls.some((c) => c.startsWith('terraform apply'))).toBe(false);
    expect(run.calls).toContain('terraform output -json');
    expect(run.stdout).toContain('the plan for prod has no changes: apply skipped');
    expect(run.artifacts['release/prod/plan-changes.txt']).toBe('none\n');
    expect(run.artifacts['release/prod/outputs.json']).toBeDefined();
  });

  it('fails, applying nothing, when the plan errors (exit 1)', async () => {
    const run = await runStage(spec, { ...releaseEnv, STUB_TERRAFORM_PLAN_EXIT: '1' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('FAILED [release/terraform-plan]: terraform plan exited 1; nothing was applied');
    expect(run.calls.some((c) => c.startsWith('terraform apply'))).toBe(false);
  });

  it('downloads Terraform once per build host: the verified binary is kept in the build cache', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'switchyard-codebuild-cache-'));
    try {
      const first = await runStage(spec, releaseEnv, { cacheDir });
      expect(first.status).toBe(0);
      expect(first.calls.filter((c) => c.startsWith('curl ') && c.includes('releases.hashicorp.com'))).toHaveLength(2);
      const second = await runStage(spec, releaseEnv, { cacheDir });
      expect(second.status).toBe(0);
      expect(second.calls.some((c) => c.startsWith('curl '))).toBe(false);
      expect(second.stdout).toContain(`terraform ${spec.env.variables.TERRAFORM_VERSION} from the build cache`);
      expect(second.calls.some((c) => c.startsWith('terraform plan'))).toBe(true);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  describe('scans each digest once', () => {
    const pushed = { ...releaseEnv, IMAGE_DIGEST: PUSHED_DIGEST, IMAGE_URI: `${REPOSITORY}@${PUSHED_DIGEST}` };

    it("reuses the build stage's passing scan of the same digest instead of scanning again", async () => {
      await withS3(async (s3Dir) => {
        expect((await runStage(spec, buildEnv, { s3Dir })).status).toBe(0);
        const release = await runStage(spec, pushed, { s3Dir });
        expect(release.stderr).not.toContain('FAILED');
        expect(release.status).toBe(0);
        expect(release.calls.some((c) => c.startsWith('trivy image'))).toBe(false);
        expect(release.stdout).toContain(`reusing the passing scan of ${PUSHED_DIGEST} from build`);
        expect(JSON.parse(release.artifacts['release/prod/image-scan.json'] ?? '{}')).toMatchObject({
          digest: PUSHED_DIGEST,
          scannedBy: expect.stringMatching(/^build /),
        });
        expect(release.calls.some((c) => c.startsWith('terraform apply'))).toBe(true);
      });
    });

    it('scans a digest it has no record for, records the pass, and the next environment reuses it', async () => {
      await withS3(async (s3Dir) => {
        const staging = await runStage(spec, { ...releaseEnv, SWITCHYARD_ENVIRONMENT: 'staging' }, { s3Dir });
        expect(staging.status).toBe(0);
        expect(staging.stdout).toContain(`no scan record for ${RELEASE_DIGEST}: scanning`);
        expect(staging.calls.filter((c) => c.startsWith('trivy image'))).toHaveLength(1);
        const record = JSON.parse(readFileSync(recordPath(s3Dir, RELEASE_DIGEST), 'utf8')) as ScanRecord;
        expect(record.scannedBy).toMatch(/^release staging /);
        const prod = await runStage(spec, releaseEnv, { s3Dir });
        expect(prod.status).toBe(0);
        expect(prod.calls.some((c) => c.startsWith('trivy image'))).toBe(false);
      });
    });

    it.each([
      ['older than SCAN_REUSE_HOURS', (r: ScanRecord) => ({ ...r, scannedAt: r.scannedAt - 25 * 3600 })],
      ['made by another Trivy version', (r: ScanRecord) => ({ ...r, trivyVersion: '0.1.0' })],
      ['made against another ignore file', (r: ScanRecord) => ({ ...r, ignorefileSha256: '0'.repeat(64) })],
      ['made with another gate', (r: ScanRecord) => ({ ...r, gate: 'CRITICAL' })],
      ['for another digest', (r: ScanRecord) => ({ ...r, digest: RELEASE_DIGEST })],
      ['not a pass', (r: ScanRecord) => ({ ...r, passed: false })],
    ])('scans again when the record is %s', async (_case, change) => {
      await withS3(async (s3Dir) => {
        expect((await runStage(spec, buildEnv, { s3Dir })).status).toBe(0);
        const path = recordPath(s3Dir, PUSHED_DIGEST);
        writeFileSync(path, JSON.stringify(change(JSON.parse(readFileSync(path, 'utf8')) as ScanRecord)));
        const release = await runStage(spec, pushed, { s3Dir });
        expect(release.status).toBe(0);
        expect(release.stdout).toContain('is stale or was made with other inputs: scanning');
        expect(release.calls.filter((c) => c.startsWith('trivy image'))).toHaveLength(1);
      });
    });

    it('scans again when .trivyignore.yaml changed since the recorded scan', async () => {
      await withS3(async (s3Dir) => {
        expect((await runStage(spec, buildEnv, { s3Dir })).status).toBe(0);
        const accepted = 'vulnerabilities:\n  - id: CVE-2026-0001\n    expired_at: 2027-01-01\n';
        const release = await runStage(spec, pushed, { s3Dir, trivyignore: accepted });
        expect(release.status).toBe(0);
        expect(release.calls.filter((c) => c.startsWith('trivy image'))).toHaveLength(1);
      });
    });

    it('goes on to Terraform after a passing scan it could not record', async () => {
      await withS3(async (s3Dir) => {
        const run = await runStage(spec, { ...releaseEnv, STUB_S3_PUT_EXIT: '1' }, { s3Dir });
        expect(run.status).toBe(0);
        expect(run.stderr).toContain('WARNING [release/scan-record]');
        expect(run.calls.some((c) => c.startsWith('terraform apply'))).toBe(true);
      });
    });

    it('still gates on a fresh scan, changing nothing and recording nothing when it fails', async () => {
      await withS3(async (s3Dir) => {
        const run = await runStage(spec, { ...releaseEnv, STUB_TRIVY_IMAGE_EXIT: '1' }, { s3Dir });
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain('FAILED [release/trivy-image]');
        expect(existsSync(recordPath(s3Dir, RELEASE_DIGEST))).toBe(false);
        expect(run.calls.some((c) => /^terraform (init|plan|apply) /.test(c))).toBe(false);
      });
    });
  });

  it('changes nothing when the image scan fails', async () => {
    const run = await runStage(spec, { ...releaseEnv, STUB_TRIVY_IMAGE_EXIT: '1' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('FAILED [release/trivy-image]');
    expect(run.calls.some((c) => c.startsWith('terraform init') || c.startsWith('terraform apply'))).toBe(false);
  });

  it.each([
    [
      'an image named by tag',
      { IMAGE_URI: `${REPOSITORY}:git-${COMMIT}` },
      'IMAGE_URI must name the image by its digest',
    ],
    ['an unknown environment', { SWITCHYARD_ENVIRONMENT: 'qa' }, 'SWITCHYARD_ENVIRONMENT must be dev, staging or prod'],
    ['a malformed digest', { IMAGE_DIGEST: 'sha256:abc' }, 'IMAGE_DIGEST must be sha256:<64 hex>'],
    ['no state bucket', { TF_STATE_BUCKET: '' }, 'no state bucket'],
    ['no scan records bucket', { SCAN_RECORDS_BUCKET: '' }, 'SCAN_RECORDS_BUCKET is empty'],
    ['a malformed reuse window', { SCAN_REUSE_HOURS: '1d' }, 'SCAN_REUSE_HOURS must be a whole number of hours'],
  ])('refuses %s before scanning anything', async (_case, override, message) => {
    const run = await runStage(spec, { ...releaseEnv, ...override });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`FAILED [release/inputs]: ${message}`);
    expect(run.calls.some((c) => c.startsWith('trivy image') || c.startsWith('terraform init'))).toBe(false);
  });
});

describe('the stage switch', () => {
  it('fails at once, saying why, for a stage that does not exist', async () => {
    const run = await runStage(spec, { SWITCHYARD_STAGE: 'deploy' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("SWITCHYARD_STAGE must be 'build' or 'release', got 'deploy'");
    expect(run.calls).toEqual([]);
  });
});

describe('the suites the build stage runs', () => {
  /** The test files a vitest project selects, as `vitest run --project NAME` would run them. */
  async function projectFiles(project: string): Promise<string[]> {
    const { createVitest } = await import('vitest/node');
    const vitest = await createVitest('test', { project, watch: false });
    try {
      const specs = await vitest.globTestSpecifications();
      return specs.map((s) => s.moduleId.slice(s.moduleId.indexOf('/test/') + 1)).sort();
    } finally {
      await vitest.close();
    }
  }

  it('runs every suite but the browser and moto ones, which need a browser, moto and Terraform the standard image does not have', async () => {
    const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts;
    expect(scripts['test:unit']).toBe('vitest run --project unit');
    expect(allCommands(spec).some((c) => /^\s*npm run test:unit -- --coverage/m.test(c))).toBe(true);
    const [unit, browser, moto] = [
      await projectFiles('unit'),
      await projectFiles('browser'),
      await projectFiles('moto'),
    ];
    expect(browser.length).toBeGreaterThan(0);
    expect(browser.every((f) => f.startsWith('test/console/'))).toBe(true);
    expect(unit.some((f) => f.startsWith('test/console/'))).toBe(false);
    expect(moto.length).toBeGreaterThan(0);
    expect(moto.every((f) => f.endsWith('.moto.test.ts'))).toBe(true);
    expect(unit.some((f) => f.endsWith('.moto.test.ts'))).toBe(false);
    const root = new URL('../..', import.meta.url);
    expect([...unit, ...browser, ...moto].sort()).toEqual(globSync('test/**/*.test.ts', { cwd: root }).sort());
  });
});
