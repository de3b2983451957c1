import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ChildOutput, childOutput } from './child-output.ts';
import { onPath } from './moto.ts';

/** How to get Terraform, in one line: the Terraform tests fail with it when `terraform` is missing. */
export const NO_TERRAFORM =
  'no terraform on PATH for the Terraform tests: install Terraform 1.11 or later ' +
  '(https://developer.hashicorp.com/terraform/install; Debian/Ubuntu: apt-get install terraform from HashiCorp’s ' +
  'apt repository; macOS: brew install hashicorp/tap/terraform) and put it on PATH';

/** `terraform` from PATH, or an error whose message is the one line saying how to get it. */
export function requireTerraform(): string {
  const found = onPath('terraform');
  if (!found) throw new Error(NO_TERRAFORM);
  return found;
}

const AWS_PROVIDER = 'registry.terraform.io/hashicorp/aws';

/** The CLI configuration the user already has (TF_CLI_CONFIG_FILE, else ~/.terraformrc), when it says where providers come from. */
export function configuredProviderInstallation(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.TF_CLI_CONFIG_FILE || join(homedir(), '.terraformrc');
  if (!existsSync(file)) return undefined;
  return /provider_installation\s*\{/.test(readFileSync(file, 'utf8')) ? file : undefined;
}

/**
 * A filesystem mirror (Terraform's packed or unpacked layout: `<root>/registry.terraform.io/hashicorp/aws/...`)
 * somewhere on this file system, found as `find / -xdev -maxdepth 6 -path '*registry.terraform.io/hashicorp/aws'`
 * would: its root, or undefined.
 */
export function findProviderMirror(): string | undefined {
  const found = spawnSync(
    'find',
    ['/', '-xdev', '-maxdepth', '6', '-type', 'd', '-path', `*/${AWS_PROVIDER}`, '-print', '-quit'],
    { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const path = found.stdout?.split('\n')[0]?.trim();
  return path ? path.slice(0, -AWS_PROVIDER.length - 1) : undefined;
}

/**
 * A CLI configuration file's text: providers from `mirror` when there is one (the AWS provider only; anything else
 * from its registry), and one plugin cache for every working directory of the run.
 */
export function cliConfig(pluginCacheDir: string, mirror: string | undefined): string {
  const lines = [`plugin_cache_dir = ${JSON.stringify(pluginCacheDir)}`];
  if (mirror) {
    lines.push(
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(mirror)}`,
      `    include = [${JSON.stringify(AWS_PROVIDER)}]`,
      '  }',
      '  direct {',
      `    exclude = [${JSON.stringify(AWS_PROVIDER)}]`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

export type TerraformResult = ChildOutput;

/** Runs `terraform <args>` in `cwd` without blocking the event loop, so several environments run side by side. */
export function terraform(
  executable: string,
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<TerraformResult> {
  return childOutput(spawn(executable, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A command that must succeed: its result, or an error carrying the tail of what Terraform said. */
export async function terraformOk(
  executable: string,
  cwd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  accept: readonly number[] = [0],
): Promise<TerraformResult> {
  const result = await terraform(executable, cwd, args, env);
  if (result.code === null || !accept.includes(result.code)) {
    const said = [
      result.stdout.trim().split('\n').slice(-10).join('\n'),
      result.stderr.trim().split('\n').slice(-25).join('\n'),
    ].join('\n');
    throw new Error(`terraform ${args[0]} exited ${result.code} in ${cwd}:\n${said}`);
  }
  return result;
}
