/**
 * Generates examples/client/schema.d.ts from the committed OpenAPI document with openapi-typescript
 * (`npm run client:generate`). The test that keeps the file current calls `generateClientSchema()`
 * too, so the committed file and the check cannot disagree about options or the header.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { COMMENT_HEADER, astToString, type OpenAPI3 } from 'openapi-typescript';

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL('./schema.d.ts', import.meta.url));

export async function generateClientSchema(document: OpenAPI3 = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenAPI3): Promise<string> {
  // silent: the redocly validator's warnings belong to `npm run lint:openapi`, not to generation.
  return `${COMMENT_HEADER}${astToString(await openapiTS(document, { silent: true }))}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, await generateClientSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
