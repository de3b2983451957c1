/** A refused option value. Its message is one line that names the option and says what it accepts. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

const DECIMAL = /^\d+(?:\.\d+)?$/;

/**
 * A number option, written in plain decimal (`0.5`, `60`): hex, exponents, signs, blanks and `Infinity`, which
 * `Number()` would take, are refused, and so is a value outside `min`..`max`.
 */
export function decimalOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!DECIMAL.test(value) || n < min || n > max) {
    throw new OptionError(`--${name} must be a number from ${min} to ${max}, written in decimal; got "${value}"`);
  }
  return n;
}

/** One of a fixed set of names. */
export function choiceOption<T extends string>(name: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) throw new OptionError(`--${name} must be one of ${choices.join(', ')}; got "${value}"`);
  return found;
}
