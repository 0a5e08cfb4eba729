/**
 * Process settings, read once from the environment and validated. A bad value stops the start
 * with a message naming the variable. Nothing else reads `process.env`.
 */
import { resolve } from 'node:path';
import { envSchema } from 'env-schema';
import { Type, type Static } from 'typebox';
import { PROJECT_ROOT } from './paths.js';

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to bind (the Docker image sets 0.0.0.0)' }),
  DATABASE_PATH: Type.String({ minLength: 1, default: 'data/kb.sqlite', description: 'SQLite file; built from db/content on first start when missing' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level' }),
  CACHE_MAX_AGE: Type.Integer({ minimum: 0, maximum: 31536000, default: 300, description: 'Cache-Control max-age (seconds) on content responses' }),
  BUILD_ON_START: Type.Boolean({ default: true, description: 'Build the database from the content files when DATABASE_PATH is missing' }),
  CONTENT_DIR: Type.String({ minLength: 1, default: 'db/content', description: 'Folder of condition content files used by the first-start build' }),
});
export type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databasePath: string;
  logLevel: Env['LOG_LEVEL'];
  cacheMaxAge: number;
  buildOnStart: boolean;
  contentDir: string;
}

/** Relative paths are taken from the project root, so `npm start` works from any folder. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = envSchema<Env>({ schema: EnvSchema, data: env, dotenv: false });
  return {
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_PATH === ':memory:' ? e.DATABASE_PATH : resolve(PROJECT_ROOT, e.DATABASE_PATH),
    logLevel: e.LOG_LEVEL,
    cacheMaxAge: e.CACHE_MAX_AGE,
    buildOnStart: e.BUILD_ON_START,
    contentDir: resolve(PROJECT_ROOT, e.CONTENT_DIR),
  };
}
