import { INestApplicationContext } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { ApiKeysService } from '../auth/api-keys/api-keys.service';
import { Capability, CAPABILITIES, isCapability } from '../auth/capabilities';
import { normalizeSessionId } from '../sessions/session-id';
import { SessionsService } from '../sessions/sessions.service';
import { ChatSyncService } from '../whatsapp-sync/sync/chat-sync.service';
import { MalformedRecordingError } from '../whatsapp-sync/sync/sync-recording';
import { SyncSessionNotFoundError } from '../whatsapp-sync/sync/sync-store.repository';

export class UsageError extends Error {}

/** The command ran and failed for a reason the operator can act on: its message is the whole report. */
export class CommandFailedError extends Error {}

export const USAGE = `Usage: npm run cli -- <command>

  api-key create --org ORG --capabilities read[,send,manage,admin] [--name NAME] [--json]
      Creates an API key for ORG and prints it once. The key is not stored and cannot be shown again.
  api-key revoke ID
      Revokes the key with this id; every replica stops accepting it within AUTH_API_KEY_CACHE_SECONDS.
  session create --org ORG --name NAME [--json]
      Registers a session (a WhatsApp number) for ORG and prints its id.
  sync replay --session ID FILE
      Feeds a JSONL recording of Baileys events (SYNC_RECORD_DIR) into the session's stored chats,
      through the same code as live events. Checks the whole file first: a malformed line is
      reported by number and nothing is applied.
`;

type Output = (line: string) => void;

/** Runs one operator command. Returns the process exit code. */
export async function runCommand(app: INestApplicationContext, argv: string[], print: Output): Promise<number> {
  const [group, action, ...rest] = argv;
  if (group === 'api-key' && action === 'create') return createApiKey(app, rest, print);
  if (group === 'api-key' && action === 'revoke') return revokeApiKey(app, rest, print);
  if (group === 'session' && action === 'create') return createSession(app, rest, print);
  if (group === 'sync' && action === 'replay') return replaySync(app, rest, print);
  throw new UsageError(`unknown command: ${[group, action].filter(Boolean).join(' ') || '(none)'}`);
}

async function createApiKey(app: INestApplicationContext, args: string[], print: Output): Promise<number> {
  const { values } = parse(args, { org: { type: 'string' }, capabilities: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const orgId = requireOrg(values.org);
  const capabilities = parseCapabilities(values.capabilities);
  const created = await app.get(ApiKeysService).create(orgId, capabilities, (values.name as string | undefined) ?? null);
  if (values.json) {
    print(JSON.stringify({ id: created.id, key: created.key, orgId: created.orgId, capabilities: created.capabilities }));
  } else {
    print(`API key ${created.id} for org ${created.orgId} with capabilities ${created.capabilities.join(',')}:`);
    print('');
    print(`  ${created.key}`);
    print('');
    print('Store it now: it is shown once and cannot be retrieved later.');
  }
  return 0;
}

async function revokeApiKey(app: INestApplicationContext, args: string[], print: Output): Promise<number> {
  const { positionals } = parse(args, {}, true);
  if (positionals.length !== 1) throw new UsageError('api-key revoke takes exactly one key id');
  const revoked = await app.get(ApiKeysService).revoke(positionals[0]);
  print(revoked ? `revoked API key ${positionals[0]}` : `no active API key with id ${positionals[0]}`);
  return revoked ? 0 : 1;
}

async function createSession(app: INestApplicationContext, args: string[], print: Output): Promise<number> {
  const { values } = parse(args, { org: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const orgId = requireOrg(values.org);
  const name = typeof values.name === 'string' && values.name.trim() ? values.name.trim() : undefined;
  if (!name) throw new UsageError('--name is required');
  const session = await app.get(SessionsService).create(orgId, name);
  print(values.json ? JSON.stringify({ id: session.id, orgId: session.orgId, name: session.name }) : `session ${session.id} (${session.name}) for org ${session.orgId}`);
  return 0;
}

async function replaySync(app: INestApplicationContext, args: string[], print: Output): Promise<number> {
  const { values, positionals } = parse(args, { session: { type: 'string' } }, true);
  if (typeof values.session !== 'string' || !values.session) throw new UsageError('--session is required');
  if (positionals.length !== 1) throw new UsageError('sync replay takes exactly one recording file');
  const sessionId = normalizeSessionId(values.session);
  if (!sessionId) throw new CommandFailedError(`session ${values.session} not found`);
  try {
    const result = await app.get(ChatSyncService).replay(sessionId, positionals[0]);
    const skipped = result.skipped > 0 ? ` (${result.skipped} of ${result.lines} events are not used by the sync and were skipped)` : '';
    print(`applied ${result.applied} events from ${positionals[0]} to session ${sessionId}${skipped}`);
    return 0;
  } catch (error) {
    if (error instanceof MalformedRecordingError) throw new CommandFailedError(`${error.message}; nothing was applied`);
    if (error instanceof SyncSessionNotFoundError) throw new CommandFailedError(`session ${sessionId} not found`);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CommandFailedError(`cannot read ${positionals[0]}: no such file`);
    throw error;
  }
}

interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>, allowPositionals = false): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function requireOrg(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) throw new UsageError('--org is required (1 to 128 characters)');
  return value;
}

function parseCapabilities(value: unknown): Capability[] {
  const names = typeof value === 'string' ? value.split(',').map((name) => name.trim()).filter(Boolean) : [];
  if (names.length === 0) throw new UsageError(`--capabilities is required (any of ${CAPABILITIES.join(', ')})`);
  const unknown = names.filter((name) => !isCapability(name));
  if (unknown.length > 0) throw new UsageError(`unknown capabilities: ${unknown.join(', ')} (known: ${CAPABILITIES.join(', ')})`);
  return names as Capability[];
}
