import type { Run } from '../context.ts';

/** A command's body: its run, its positional arguments and its own options; resolves to the exit code. */
export type Action<O> = (run: Run, args: string[], options: O) => Promise<number>;

/** Turns an action into commander's handler, which receives the positionals, the options and the command. */
export type Bind = <O = Record<string, unknown>>(action: Action<O>) => (...received: unknown[]) => Promise<void>;
