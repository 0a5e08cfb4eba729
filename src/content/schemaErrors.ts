/**
 * TypeBox errors → one `{ instancePath, message }` per path, in the words content validation
 * uses ("is required", "unknown field", "must be one of: ..."). Shared by the write routes'
 * validator and the curation service, which checks whole conditions after a change.
 */
import type { TLocalizedValidationError } from 'typebox/error';

export interface SchemaError {
  instancePath: string;
  message: string;
}

export function schemaErrors(errors: Iterable<TLocalizedValidationError>): SchemaError[] {
  const byPath = new Map<string, string[]>();
  const add = (path: string, message: string) => {
    const list = byPath.get(path) ?? [];
    if (!list.includes(message)) list.push(message);
    byPath.set(path, list);
  };
  for (const e of errors) {
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'anyOf' || e.keyword === 'boolean') continue; // reported by their branches / parent
    if (e.keyword === 'additionalProperties') {
      for (const name of (params.additionalProperties as string[] | undefined) ?? []) add(`${e.instancePath}/${name}`, 'unknown field');
    } else if (e.keyword === 'required') {
      for (const name of (params.requiredProperties as string[] | undefined) ?? []) add(`${e.instancePath}/${name}`, 'is required');
    } else if (e.keyword === 'enum') {
      add(e.instancePath, `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`);
    } else if (e.keyword === 'const') {
      add(e.instancePath, `must be ${JSON.stringify(params.allowedValue)}`);
    } else {
      add(e.instancePath, e.message);
    }
  }
  // "must be number" + "must be null" → "must be number or null", as content validation says it.
  const join = (messages: string[]) =>
    messages.every((m) => m.startsWith('must be ')) ? `must be ${messages.map((m) => m.slice(8)).join(' or ')}` : messages.join(' or ');
  return [...byPath].map(([instancePath, messages]) => ({ instancePath, message: join(messages) }));
}
