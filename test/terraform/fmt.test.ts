// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL expressions are "${...}" strings, not JS templates.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERRAFORM_ROOT } from '../../scripts/generate-tfvars.ts';
import { checkFormatting, terraformSourceFiles } from '../../scripts/terraform-fmt.ts';

// No terraform or tofu binary can be installed here (see docs/terraform.md), so this runs the formatter
// `terraform fmt` is built on (hclwrite, as WASM) plus checks for the rewrites terraform fmt adds on top.
describe('terraform fmt -check -recursive infra/terraform, via hclwrite', () => {
  it('finds every .tf file of the module and the one root', async () => {
    const files = await terraformSourceFiles(TERRAFORM_ROOT);
    expect(files.filter((f) => f.includes('/modules/app-environment/')).length).toBeGreaterThanOrEqual(8);
    for (const file of ['main.tf', 'variables.tf', 'outputs.tf']) {
      expect(files).toContain(join(TERRAFORM_ROOT, 'root', file));
    }
  });

  it('reports nothing to reformat', async () => {
    expect(await checkFormatting(TERRAFORM_ROOT)).toEqual([]);
  });

  describe('on files that are not canonical', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'switchyard-fmt-'));
      await writeFile(join(dir, 'misaligned.tf'), 'resource "a" "b" {\nx = 1\n  longer = 2\n}\n');
      await writeFile(join(dir, 'interpolation.tf'), 'output "o" {\n  value = "${var.x}"\n}\n');
      await writeFile(join(dir, 'legacy.tf'), 'variable "v" {\n  type = "string"\n}\n');
      await writeFile(join(dir, 'canonical.tf'), 'output "o" {\n  value = "v-${var.x}"\n}\n');
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('names each file and what terraform fmt would change', async () => {
      const findings = (await checkFormatting(dir)).map((f) => `${f.path.slice(dir.length + 1)}: ${f.reason}`);
      expect(findings).toEqual([
        expect.stringMatching(/^interpolation\.tf: line 2: interpolation-only/),
        expect.stringMatching(/^legacy\.tf: line 2: legacy type/),
        'misaligned.tf: layout differs from the canonical format',
      ]);
    });
  });
});
