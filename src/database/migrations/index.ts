import { InitialSchema1764072000000 } from './1764072000000-initial-schema';
import { ChatSync1764158400000 } from './1764158400000-chat-sync';
import { SessionConnections1764590400000 } from './1764590400000-session-connections';

/** Every migration, in order. A new migration file is added here too. */
export const MIGRATIONS = [InitialSchema1764072000000, ChatSync1764158400000, SessionConnections1764590400000];
