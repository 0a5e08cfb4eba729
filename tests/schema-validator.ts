/**
 * Validates response bodies against the named schemas the app registers, with additional
 * properties forbidden, so a field that is not in the schema fails the test instead of leaking.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ALL_NAMED_SCHEMAS } from '../src/schemas/index.js';

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = strict(v);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
for (const schema of ALL_NAMED_SCHEMAS) ajv.addSchema(strict(schema) as object);

export function responseValidator(id: string): ValidateFunction {
  const validate = ajv.getSchema(`${id}`);
  if (!validate) throw new Error(`no schema ${id}`);
  return validate;
}
