/** asl-validator 4 ships no type declarations; this is the part of its API the tests use. */
declare module 'asl-validator' {
  interface ValidationResult {
    readonly isValid: boolean;
    readonly errors: ReadonlyArray<{ readonly message?: string; readonly path?: string }>;
  }
  export default function aslValidator(definition: unknown, options?: Record<string, unknown>): ValidationResult;
}
