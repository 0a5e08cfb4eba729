import { defineConfig } from 'drizzle-kit';

// Migrations are generated (`npm run db:generate`), committed, and applied by the app; never `push`.
export default defineConfig({
  dialect: 'sqlite',
  schema: './db/schema.ts',
  out: './migrations',
});
