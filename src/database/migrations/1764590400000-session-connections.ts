import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions become real connections: what the API shows about each one, the lease that says which
 * replica holds it, its Baileys credentials (encrypted), and the commands one replica sends to the
 * holder of a session.
 */
export class SessionConnections1764590400000 implements MigrationInterface {
  name = 'SessionConnections1764590400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sessions
        ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
        ADD COLUMN desired_state text NOT NULL DEFAULT 'stopped' CHECK (desired_state IN ('running', 'stopped')),
        ADD COLUMN phone_jid text,
        ADD COLUMN push_name text,
        ADD COLUMN qr_code text,
        ADD COLUMN qr_issued_at timestamptz,
        ADD COLUMN last_error text,
        ADD COLUMN last_disconnect_code integer,
        ADD COLUMN last_disconnect_reason text,
        ADD COLUMN last_disconnect_at timestamptz,
        ADD COLUMN reconnect_attempts integer NOT NULL DEFAULT 0 CHECK (reconnect_attempts >= 0),
        ADD COLUMN next_reconnect_at timestamptz,
        ADD COLUMN connected_at timestamptz`);
    // The lease scan looks only at sessions that should be connected.
    await queryRunner.query(`CREATE INDEX sessions_running ON sessions (id) WHERE desired_state = 'running'`);

    // One row per session once it was first claimed. `epoch` only ever grows: it is the fencing
    // token every credentials and status write of the holder is checked against. Expiry is by the
    // database's clock (now()), never a replica's.
    await queryRunner.query(`
      CREATE TABLE session_leases (
        session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        owner text,
        epoch bigint NOT NULL CHECK (epoch > 0),
        expires_at timestamptz NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX session_leases_owner ON session_leases (owner) WHERE owner IS NOT NULL`);

    await queryRunner.query(`
      CREATE TABLE gateway_replicas (
        id text PRIMARY KEY,
        capacity integer NOT NULL CHECK (capacity >= 0),
        draining boolean NOT NULL DEFAULT false,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Baileys' AuthenticationState: creds, and the signal keys by (type, id). `data` is AES-256-GCM
    // ciphertext (see CredentialCipher); nothing here is readable without the encryption key.
    await queryRunner.query(`
      CREATE TABLE session_auth_creds (
        session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        data bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE session_auth_keys (
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        type text NOT NULL,
        key_id text NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (session_id, type, key_id)
      )`);

    // A request for the replica holding a session (stop, logout, pairing code), addressed to the
    // holder and the epoch it held when the request was made.
    await queryRunner.query(`
      CREATE TABLE session_commands (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        target_owner text NOT NULL,
        target_epoch bigint NOT NULL,
        kind text NOT NULL CHECK (kind IN ('stop', 'logout', 'pairing_code')),
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        picked_at timestamptz,
        completed_at timestamptz,
        result jsonb
      )`);
    await queryRunner.query(`CREATE INDEX session_commands_pending ON session_commands (target_owner, id) WHERE picked_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE session_commands`);
    await queryRunner.query(`DROP TABLE session_auth_keys`);
    await queryRunner.query(`DROP TABLE session_auth_creds`);
    await queryRunner.query(`DROP TABLE gateway_replicas`);
    await queryRunner.query(`DROP TABLE session_leases`);
    await queryRunner.query(`DROP INDEX sessions_running`);
    await queryRunner.query(`
      ALTER TABLE sessions
        DROP COLUMN metadata, DROP COLUMN desired_state, DROP COLUMN phone_jid, DROP COLUMN push_name,
        DROP COLUMN qr_code, DROP COLUMN qr_issued_at, DROP COLUMN last_error, DROP COLUMN last_disconnect_code,
        DROP COLUMN last_disconnect_reason, DROP COLUMN last_disconnect_at, DROP COLUMN reconnect_attempts,
        DROP COLUMN next_reconnect_at, DROP COLUMN connected_at`);
  }
}
