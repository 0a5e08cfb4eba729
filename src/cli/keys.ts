/**
 * `kb keys create|list|revoke`: curator API keys. The full key is printed once, at creation; the
 * database keeps only its id, a salt and a hash, so a lost key is revoked and replaced, never
 * recovered. Functions take the database and an output sink so tests run them without a process.
 */
import type { Sqlite } from '../db/connection.js';
import { SCOPES, isScope, type Scope } from '../auth/keys.js';
import { createApiKeysRepository } from '../repositories/apiKeys.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface KeysArgs {
  action: string | undefined;
  name?: string;
  scopes?: string[];
  id?: string;
}

export const KEYS_USAGE = `  keys create --name NAME --scope SCOPE [--scope SCOPE]   create an API key (printed once); scopes: ${SCOPES.join(', ')}
  keys list                                               list keys (id, name, scopes, created, revoked; never secrets)
  keys revoke ID                                          revoke a key at once`;

/** Runs one keys subcommand; returns the exit code. Usage errors throw UsageError (exit 2). */
export function keysCommand(db: Sqlite, args: KeysArgs, print: (line: string) => void): number {
  const repo = createApiKeysRepository(db);
  switch (args.action) {
    case 'create': {
      const name = args.name?.trim();
      if (!name) throw new UsageError('keys create needs --name NAME (who or what uses the key)');
      if (name.length > 100) throw new UsageError('--name is at most 100 characters');
      const scopes = args.scopes ?? [];
      if (scopes.length === 0) throw new UsageError(`keys create needs at least one --scope (${SCOPES.join(', ')})`);
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length) throw new UsageError(`unknown scope(s): ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
      const created = repo.create(name, scopes as Scope[]);
      print(`created API key ${created.id} "${created.name}" with scopes ${created.scopes.join(', ')}`);
      print('The key is shown only now; store it in a secret manager. It cannot be shown again.');
      print(created.key);
      return 0;
    }
    case 'list': {
      const keys = repo.list();
      if (keys.length === 0) print('no API keys');
      for (const k of keys) print(`${k.id}  ${k.name}  scopes=${k.scopes.join(',')}  created=${k.createdAt}  ${k.revokedAt ? `revoked=${k.revokedAt}` : 'active'}`);
      return 0;
    }
    case 'revoke': {
      if (!args.id) throw new UsageError('keys revoke needs the key id (see kb keys list)');
      const key = repo.get(args.id);
      if (!key) {
        print(`no API key with id ${args.id}`);
        return 1;
      }
      if (key.revokedAt) {
        print(`API key ${key.id} was already revoked at ${key.revokedAt}`);
        return 0;
      }
      repo.revoke(key.id);
      print(`revoked API key ${key.id} "${key.name}"`);
      return 0;
    }
    default:
      throw new UsageError(`keys needs a subcommand: create, list or revoke\n${KEYS_USAGE}`);
  }
}
