/**
 * Writes the OpenAPI document generated from the route schemas. The app is built against a
 * throwaway database so that exporting needs no running server and no existing data file.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { CONTENT_DIR } from '../paths.js';

export async function openApiDocument(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-openapi-'));
  try {
    const config = { ...loadConfig({}), databasePath: join(dir, 'kb.sqlite'), contentDir: CONTENT_DIR };
    const app = await buildApp(config, { logger: false });
    try {
      await app.ready();
      return `${JSON.stringify(app.swagger(), null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function writeOpenApi(path: string): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await openApiDocument());
  return path;
}
