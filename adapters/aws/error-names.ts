/**
 * Matches SDK v3 service exceptions by `name` rather than `instanceof`, so a second copy of a client package (or a
 * test double that throws a plain object) is recognised the same way.
 */
export function hasErrorName(error: unknown, ...names: readonly string[]): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name: unknown = Reflect.get(error, 'name');
  return typeof name === 'string' && names.includes(name);
}
