/**
 * Fastify's response serializers, compiled on first use instead of at start-up.
 *
 * Fastify compiles a fast-json-stringify serializer for every response schema of every route
 * (some 400 of them here) before it listens: at start-up that was the largest single cost
 * (fast-json-stringify and its schema checks ~30% of the time to the first response). This
 * factory hands Fastify the same serializer, built with the same options in the same order as
 * `@fastify/fast-json-stringify-compiler` (Fastify's default) builds it, but only when a route
 * first answers with that status. A schema fast-json-stringify cannot compile therefore fails
 * that route's first response instead of the start (every route's schemas are exercised by the
 * tests, and `npm run openapi` reads them all).
 */
import build from 'fast-json-stringify';

type Serializer = (data: unknown) => string;
type Options = NonNullable<Parameters<typeof build>[1]>;

export function lazySerializerFactory(externalSchemas: unknown, serializerOpts: unknown): (route: { schema?: unknown }) => Serializer {
  // As in @fastify/fast-json-stringify-compiler: one options object shared by every route, whose
  // `schema` (the external schemas) loses the route schema's own $id when it is among them.
  const shared: Options = { ...(serializerOpts as Options), schema: externalSchemas as Options['schema'] };
  return ({ schema }) => {
    const id = typeof schema === 'object' && schema !== null && '$id' in schema && typeof schema.$id === 'string' ? schema.$id : undefined;
    if (shared.schema && id !== undefined && id in shared.schema) {
      shared.schema = Object.fromEntries(Object.entries(shared.schema).filter(([key]) => key !== id));
    }
    // The options as they are now: later routes replace `shared.schema`, never mutate this one.
    const options: Options = { ...shared };
    let compiled: Serializer | undefined;
    return (data) => (compiled ??= build(schema as Parameters<typeof build>[0], options) as Serializer)(data);
  };
}
