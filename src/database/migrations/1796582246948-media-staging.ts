import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media sending (docs/sending.md, "Media"): the uploaded file is staged in PostgreSQL, in chunks of
 * bytea (`media_staging_chunks`), as the request streams it in; any replica accepts it and the
 * session's holder reads it back when it sends. A staged file belongs to its outbox row
 * (`outbox_id`, set in the acceptance transaction) and is deleted once the row is sent or failed;
 * one never linked (a request that failed or died mid-upload) is swept after an hour. Chunks are
 * stored uncompressed out of line (`STORAGE EXTERNAL`): media is compressed already.
 *
 * `message_media_merge`: an own media message's metadata (stored when accepted) and what
 * WhatsApp's echo of it says (its location on the media host, dimensions, duration) merge key by
 * key, the greater value winning a conflict, so the merge stays commutative and idempotent.
 */
export class MediaStaging1796582246948 implements MigrationInterface {
  name = 'MediaStaging1796582246948';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE media_staging (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        outbox_id bigint REFERENCES message_outbox (id) ON DELETE CASCADE,
        size bigint,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX media_staging_outbox ON media_staging (outbox_id) WHERE outbox_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX media_staging_unlinked ON media_staging (created_at) WHERE outbox_id IS NULL`);
    await queryRunner.query(`
      CREATE TABLE media_staging_chunks (
        staging_id bigint NOT NULL REFERENCES media_staging (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (staging_id, seq)
      )`);
    await queryRunner.query(`ALTER TABLE media_staging_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await queryRunner.query(`
      CREATE FUNCTION message_media_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE (
          SELECT jsonb_object_agg(k, v) FROM (
            SELECT DISTINCT ON (k) k, v
            FROM (SELECT key AS k, value AS v FROM jsonb_each(a) UNION ALL SELECT key, value FROM jsonb_each(b)) AS x
            ORDER BY k, v DESC) AS y) END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION message_media_merge(jsonb, jsonb)`);
    await queryRunner.query(`DROP TABLE media_staging_chunks`);
    await queryRunner.query(`DROP TABLE media_staging`);
  }
}
