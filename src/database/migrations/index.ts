import { InitialSchema1764072000000 } from './1764072000000-initial-schema';

/** Every migration, in order. A new migration file is added here too. */
export const MIGRATIONS = [InitialSchema1764072000000];
