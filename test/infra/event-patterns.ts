/**
 * EventBridge's matching for the pattern forms the service's rules use: an array of exact values (a field matches
 * when its value, or any element of an array value, is one of them) and nested objects. Any other form (prefix,
 * anything-but, numeric, exists) is refused, so a rule that starts using one fails its test instead of passing it.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isRecord(pattern)) throw new Error('an event pattern is an object');
  if (!isRecord(event)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      for (const value of expected) {
        if (typeof value === 'object' && value !== null) {
          throw new Error(`unsupported content filter in ${key}: ${JSON.stringify(value)}`);
        }
      }
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((v) => v !== undefined && expected.includes(v));
    }
    if (isRecord(expected)) return matchesPattern(expected, actual);
    throw new Error(`pattern field ${key} must be an array or an object`);
  });
}

/**
 * EventBridge's input transformer: each InputPathsMap path is read from the event and each `<name>` placeholder
 * of the template is replaced by that value as JSON (`null` when the event lacks the field).
 */
export function transformInput(
  transformer: { InputPathsMap?: Record<string, string>; InputTemplate: string },
  event: unknown,
): unknown {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) values.set(name, readPath(event, path));
  const rendered = transformer.InputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (placeholder, name: string) => {
    if (!values.has(name)) throw new Error(`the template uses ${placeholder}, which InputPathsMap does not define`);
    return JSON.stringify(values.get(name) ?? null);
  });
  return JSON.parse(rendered);
}

function readPath(event: unknown, path: string): unknown {
  if (!path.startsWith('$.')) throw new Error(`unsupported input path ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), event);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
