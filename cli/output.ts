import pc from 'picocolors';
import type { CliIo } from './context.ts';

type Colors = ReturnType<typeof pc.createColors>;

/** How a release's status reads, and its colour. */
const STATUS: Record<string, { title: string; tone: 'good' | 'bad' | 'warn' | 'busy' }> = {
  starting: { title: 'STARTING', tone: 'busy' },
  running: { title: 'RUNNING', tone: 'busy' },
  released: { title: 'RELEASED', tone: 'good' },
  'rolled-back': { title: 'ROLLED BACK', tone: 'bad' },
  failed: { title: 'RELEASE FAILED', tone: 'bad' },
  aborted: { title: 'ABORTED', tone: 'warn' },
};

export interface OutputOptions {
  readonly json: boolean;
  /** False with --no-color. */
  readonly color: boolean;
}

/** Human or JSON output: colour only on a terminal, never with NO_COLOR or --json. */
export class Output {
  readonly c: Colors;
  readonly json: boolean;
  readonly tty: boolean;

  constructor(
    private readonly io: CliIo,
    options: OutputOptions,
  ) {
    this.json = options.json;
    this.tty = io.isTTY === true && !options.json;
    const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
    this.c = pc.createColors(this.tty && options.color && !noColor);
  }

  line(text = ''): void {
    this.io.out(text);
  }

  error(text: string): void {
    this.io.err(text);
  }

  data(value: unknown): void {
    this.io.out(JSON.stringify(value, null, 2));
  }

  status(status: string): string {
    const known = STATUS[status];
    const title = known?.title ?? status.toUpperCase();
    switch (known?.tone) {
      case 'good':
        return this.c.bold(this.c.green(title));
      case 'bad':
        return this.c.bold(this.c.red(title));
      case 'warn':
        return this.c.bold(this.c.yellow(title));
      default:
        return this.c.bold(this.c.cyan(title));
    }
  }

  verdict(verdict: string): string {
    if (verdict === 'healthy') return this.c.green(verdict);
    if (verdict === 'unhealthy') return this.c.red(verdict);
    return this.c.yellow(verdict);
  }
}

/** `[######..............]` for done of total. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * A timestamp as HH:MM:SS, labelled with its clock: the local runtime's clock runs faster than the wall clock
 * (virtual time), the cloud's is UTC.
 */
export function clockTime(iso: string | null | undefined, virtual: boolean): string {
  if (!iso) return '?';
  return `${iso.slice(11, 19)} ${virtual ? 'virtual' : 'UTC'}`;
}

/** Minutes with at most one decimal: 2, 2.5. */
export function minutes(seconds: number): string {
  return String(Math.round((seconds / 60) * 10) / 10);
}
