/**
 * Request validators compiled on first use instead of at start-up, like the response serializers
 * (lazySerializers.ts).
 *
 * Fastify compiles an Ajv validator for the params, querystring and body of every route before it
 * listens: in the start-up profile (`node --cpu-prof` to the first 200) Ajv's code generation was
 * the largest single cost, ~26% of the time, and it grows with the routes, not with what is
 * asked. `lazyAjvCompiler` is Fastify's own default (@fastify/ajv-compiler, with the server's Ajv
 * options and named schemas), asked for a route's validator only when that route first validates
 * a request. The compiled function is called exactly as Fastify calls Ajv's: with the parent
 * object, so that Ajv can coerce or default a root value (Fastify passes it to functions that have
 * `schemaEnv`, as Ajv's do). A schema that Ajv cannot compile therefore fails that route's first
 * request instead of the start; every route is exercised by the tests and by `npm run openapi`.
 *
 * Set with `setValidatorCompiler`, which makes Fastify treat it as a custom compiler: the only
 * difference that makes is that `headers` schemas are not lower-cased for it, and no route that
 * uses this compiler has one (the write routes, which do, have a compiler of their own).
 */
import { AjvCompiler, type ValidatorCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

type Compile = FastifySchemaCompiler<Parameters<ValidatorCompiler>[0]['schema']>;
/** What Fastify hands a validator that has `schemaEnv`: the object the value sits in. */
interface DataContext {
  parentData: object;
  parentDataProperty: string;
}

/** Any compiler, compiling each route's validator on its first call. */
export function lazily<T>(compile: FastifySchemaCompiler<T>): FastifySchemaCompiler<T> {
  return (route) => {
    let compiled: ReturnType<FastifySchemaCompiler<T>> | undefined;
    const validate = (data: unknown, context?: DataContext) => {
      compiled ??= compile(route);
      // The compiled validator takes the context when it is Ajv's; any other ignores it.
      const run: (data: unknown, context?: DataContext) => ReturnType<ReturnType<FastifySchemaCompiler<T>>> = compiled;
      const result = run(data, context);
      validate.errors = compiled.errors;
      return result;
    };
    validate.errors = null as FastifySchemaValidationError[] | null | undefined;
    // Fastify passes the parent object only to a validator with `schemaEnv` (Ajv's mark).
    validate.schemaEnv = true;
    return validate;
  };
}

/** Fastify's default Ajv compiler for these named schemas and Ajv options, compiling lazily. */
export function lazyAjvCompiler(named: Record<string, unknown>, ajv: Parameters<ValidatorFactory>[1]): Compile {
  // Fastify's schema bucket holds the JSON Schema objects added with addSchema, by $id.
  const schemas: Parameters<ValidatorFactory>[0] = {};
  for (const [id, schema] of Object.entries(named)) if (typeof schema === 'object' && schema !== null) schemas[id] = { ...schema };
  let build: Compile | undefined;
  // The Ajv instance (formats, every named schema added) is made on the first compile too.
  return lazily((route) => (build ??= AjvCompiler()(schemas, ajv))(route));
}
