/**
 * The validator of every write route: TypeBox's compiled checker, the one `kb validate` uses for
 * content files. It never coerces (`{"value": "50.3"}` stays a string and fails `number`), never
 * removes or defaults anything, and reports every problem. The app-wide Ajv coerces because query
 * strings arrive as text; write routes take only strings in params and headers, so nothing there
 * needs coercion either.
 *
 * A union whose branches each fix one property to a constant (POST /v1/facts: `section`) is
 * checked against the branch that property selects, so errors describe that branch only instead
 * of every alternative.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { schemaErrors } from '../../content/schemaErrors.js';

type Check = (value: unknown) => FastifySchemaValidationError[];

/** TypeBox errors in the form Fastify reports validation errors (see content/schemaErrors.ts). */
export function toValidationErrors(errors: Iterable<TLocalizedValidationError>): FastifySchemaValidationError[] {
  // `keyword` is deliberately not Ajv's: the errors plugin then prints these messages as they are.
  return schemaErrors(errors).map((e) => ({ keyword: 'content', instancePath: e.instancePath, schemaPath: '', params: {}, message: e.message }));
}

function discriminator(schema: TSchema): { property: string; branches: Map<unknown, TSchema> } | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  const first = anyOf?.[0] as { properties?: Record<string, { const?: unknown }> } | undefined;
  if (!anyOf || !first?.properties) return undefined;
  for (const [property, s] of Object.entries(first.properties)) {
    if (s.const === undefined) continue;
    const branches = new Map<unknown, TSchema>();
    for (const b of anyOf) {
      const value = (b as { properties?: Record<string, { const?: unknown }> }).properties?.[property]?.const;
      if (value === undefined) break;
      branches.set(value, b);
    }
    if (branches.size === anyOf.length) return { property, branches };
  }
  return undefined;
}

export function compileCheck(schema: TSchema): Check {
  const tagged = discriminator(schema);
  if (tagged) {
    const checks = new Map([...tagged.branches].map(([value, branch]) => [value, compileCheck(branch)]));
    const allowed = [...tagged.branches.keys()].join(', ');
    const whole = compileCheck({ ...schema, anyOf: undefined, type: 'object' } as TSchema);
    return (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return whole(value);
      const check = checks.get((value as Record<string, unknown>)[tagged.property]);
      if (check) return check(value);
      return [{ keyword: 'content', instancePath: `/${tagged.property}`, schemaPath: '', params: {}, message: `must be one of: ${allowed}` }];
    };
  }
  const compiled = Compile(schema);
  return (value) => (compiled.Check(value) ? [] : toValidationErrors(compiled.Errors(value)));
}

export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const check = compileCheck(schema);
  const validate = (data: unknown) => {
    const errors = check(data);
    validate.errors = errors.length ? errors : null;
    return errors.length === 0;
  };
  validate.errors = null as FastifySchemaValidationError[] | null;
  return validate;
};
