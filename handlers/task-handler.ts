import type { z } from 'zod';
import { DuplicateDelivery, errorMessage, InvalidRelease, TransientFailure } from '../core/model/errors.ts';
import { logger } from '../logging/logger.ts';

/** A state's handler as the state machine (or the local engine) calls it: JSON in, JSON out, named errors. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface TaskOptions {
  /** Classifies errors from the adapters that a retry can fix (throttling, 5xx); the state machine retries those. */
  readonly isTransient?: (error: unknown) => boolean;
}

/**
 * The three things every handler does: parse its input with a schema, call one core function, shape the output.
 * Errors keep their names (the state machine's Catch matches them); transient adapter errors become
 * TransientFailure so the state machine retries them with backoff.
 */
export function taskHandler<S extends z.ZodType, R>(
  stateName: string,
  schema: S,
  run: (input: z.infer<S>) => Promise<R>,
  options: TaskOptions = {},
): TaskHandler {
  return async (raw: unknown) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new InvalidRelease(
        `${stateName} received malformed input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    try {
      const result = await run(parsed.data);
      logger.info(`${stateName} done`, { state: stateName });
      return result;
    } catch (error) {
      if (options.isTransient?.(error)) {
        logger.warn(`${stateName} hit a transient failure`, { state: stateName, error: errorMessage(error) });
        throw new TransientFailure(`${stateName}: ${errorMessage(error)}`);
      }
      if (error instanceof DuplicateDelivery) {
        logger.info(`${stateName}: duplicate delivery`, { state: stateName, detail: errorMessage(error) });
        throw error;
      }
      logger.error(`${stateName} failed`, { state: stateName, error: errorMessage(error) });
      throw error;
    }
  };
}
