import { INestApplicationContext } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { ApiKeysService } from '../auth/api-keys/api-keys.service';
import { Capability, CAPABILITIES, isCapability } from '../common/capabilities';
import { normalizeSessionId } from '../sessions/session-ownership';
import { MessageRetention } from '../messages/message-retention';
import { SessionsService } from '../sessions/sessions.service';
import { ChatSyncService } from '../whatsapp-sync/sync/chat-sync.service';
import { MalformedRecordingError } from '../whatsapp-sync/sync/sync-recording';
import { SyncSessionNotFoundError } from '../whatsapp-sync/sync/store/session-tx';

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
  messages retention --org ORG --days DAYS|keep
      Sets how many days ORG keeps its stored messages (1..36500); older ones are deleted by the
      retention sweep (MESSAGE_RETENTION_SWEEP_MS). \`keep\` keeps everything (the default).
`;

type Output = (line: string) => void;

/** A command whose arguments are checked: running it needs the database, parsing it does not. */
export type Command = (app: INestApplicationContext, print: Output) => Promise<number>;

/**
 * Checks the arguments of one operator command, before anything is started (the CLI starts
 * PostgreSQL only for a command that parsed). Throws UsageError.
 */
export function parseCommand(argv: string[]): Command {
  const [group, action, ...rest] = argv;
  if (group === 'api-key' && action === 'create') return createApiKey(rest);
  if (group === 'api-key' && action === 'revoke') return revokeApiKey(rest);
  if (group === 'session' && action === 'create') return createSession(rest);
  if (group === 'sync' && action === 'replay') return replaySync(rest);
  if (group === 'messages' && action === 'retention') return setRetention(rest);
  throw new UsageError(`unknown command: ${[group, action].filter(Boolean).join(' ') || '(none)'}`);
}

/** Runs one operator command. Returns the process exit code; a usage error is a rejection, as any other failure. */
export async function runCommand(app: INestApplicationContext, argv: string[], print: Output): Promise<number> {
  return parseCommand(argv)(app, print);
}

function createApiKey(args: string[]): Command {
  const { values } = parse(args, { org: { type: 'string' }, capabilities: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const orgId = requireOrg(values.org);
  const capabilities = parseCapabilities(values.capabilities);
  return async (app, print) => {
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
  };
}

function revokeApiKey(args: string[]): Command {
  const { positionals } = parse(args, {}, true);
  if (positionals.length !== 1) throw new UsageError('api-key revoke takes exactly one key id');
  const [id] = positionals;
  return async (app, print) => {
    const revoked = await app.get(ApiKeysService).revoke(id);
    print(revoked ? `revoked API key ${id}` : `no active API key with id ${id}`);
    return revoked ? 0 : 1;
  };
}

function createSession(args: string[]): Command {
  const { values } = parse(args, { org: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const orgId = requireOrg(values.org);
  const name = typeof values.name === 'string' && values.name.trim() ? values.name.trim() : undefined;
  if (!name) throw new UsageError('--name is required');
  return async (app, print) => {
    const session = await app.get(SessionsService).create(orgId, name);
    print(
      values.json
        ? JSON.stringify({ id: session.id, orgId: session.orgId, name: session.name })
        : `session ${session.id} (${session.name}) for org ${session.orgId}`,
    );
    return 0;
  };
}

function replaySync(args: string[]): Command {
  const { values, positionals } = parse(args, { session: { type: 'string' } }, true);
  if (typeof values.session !== 'string' || !values.session) throw new UsageError('--session is required');
  if (positionals.length !== 1) throw new UsageError('sync replay takes exactly one recording file');
  const requested = values.session;
  const [file] = positionals;
  return async (app, print) => {
    const sessionId = normalizeSessionId(requested);
    if (!sessionId) throw new CommandFailedError(`session ${requested} not found`);
    try {
      const result = await app.get(ChatSyncService).replay(sessionId, file);
      const skipped = result.skipped > 0 ? ` (${result.skipped} of ${result.lines} events are not used by the sync and were skipped)` : '';
      print(`applied ${result.applied} events from ${file} to session ${sessionId}${skipped}`);
      return 0;
    } catch (error) {
      if (error instanceof MalformedRecordingError) throw new CommandFailedError(`${error.message}; nothing was applied`);
      if (error instanceof SyncSessionNotFoundError) throw new CommandFailedError(`session ${sessionId} not found`);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CommandFailedError(`cannot read ${file}: no such file`);
      throw error;
    }
  };
}

function setRetention(args: string[]): Command {
  const { values } = parse(args, { org: { type: 'string' }, days: { type: 'string' } });
  const orgId = requireOrg(values.org);
  const raw = values.days;
  const days = raw === 'keep' ? null : typeof raw === 'string' && /^\d{1,5}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 36_500 ? Number(raw) : undefined;
  if (days === undefined) throw new UsageError('--days is required: a number of days (1..36500) or keep');
  return async (app, print) => {
    await app.get(MessageRetention).setForOrg(orgId, days);
    print(days === null ? `org ${orgId} keeps all its messages` : `org ${orgId} keeps its messages for ${days} days`);
    return 0;
  };
}

interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>, allowPositionals = false): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function requireOrg(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) throw new UsageError('--org is required (1 to 128 characters)');
  return value;
}

function parseCapabilities(value: unknown): Capability[] {
  const names =
    typeof value === 'string'
      ? value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : [];
  if (names.length === 0) throw new UsageError(`--capabilities is required (any of ${CAPABILITIES.join(', ')})`);
  const unknown = names.filter((name) => !isCapability(name));
  if (unknown.length > 0) throw new UsageError(`unknown capabilities: ${unknown.join(', ')} (known: ${CAPABILITIES.join(', ')})`);
  return names as Capability[];
}
