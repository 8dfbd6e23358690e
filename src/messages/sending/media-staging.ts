import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';

/** Bytes per staged chunk: one row of `media_staging_chunks`, one statement while it streams in. */
export const STAGING_CHUNK_BYTES = 256 * 1024;

const CREATE = `INSERT INTO media_staging (session_id) VALUES ($1) RETURNING id::text AS id`;
const APPEND = `INSERT INTO media_staging_chunks (staging_id, seq, data) VALUES ($1, $2, $3)`;
const COMPLETE = `UPDATE media_staging SET size = $2 WHERE id = $1`;
const DISCARD = `DELETE FROM media_staging WHERE id = $1`;
const CHUNK = `SELECT data FROM media_staging_chunks WHERE staging_id = $1 AND seq = $2`;
// Uploads that never became a message (the request failed, or its replica died mid-upload).
const SWEEP_UNLINKED = `
  DELETE FROM media_staging WHERE id IN (
    SELECT id FROM media_staging WHERE outbox_id IS NULL AND created_at < now() - interval '1 hour' ORDER BY created_at LIMIT 100)`;

/**
 * Where a sent file waits between the request that brought it and the holder that sends it
 * (docs/sending.md, "Media"): PostgreSQL, in bytea chunks, so that any replica can accept and the
 * session's holder, wherever it runs, reads it back; written as the request streams in and read
 * back chunk by chunk, never whole in memory. The acceptance links a staged file to its outbox row
 * (outbox.repository.ts); the outbox deletes it once the row is sent or failed.
 */
@Injectable()
export class MediaStaging {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores `chunks` as one staged file of the session, in STAGING_CHUNK_BYTES rows as they come;
   * `onChunk` sees each piece first and may throw to stop (a size limit). The file is deleted if
   * storing fails or is stopped.
   */
  async stage(sessionId: string, chunks: AsyncIterable<Buffer>, onChunk: (chunk: Buffer) => void): Promise<{ stagingId: string; size: number }> {
    const [{ id }]: { id: string }[] = await this.dataSource.query(CREATE, [sessionId]);
    let size = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // Every chunk but the last is exactly STAGING_CHUNK_BYTES.
    const flush = async (all: boolean) => {
      while (pendingBytes >= STAGING_CHUNK_BYTES || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending, pendingBytes);
        const data = joined.subarray(0, Math.min(STAGING_CHUNK_BYTES, joined.length));
        pending = data.length < joined.length ? [joined.subarray(data.length)] : [];
        pendingBytes = joined.length - data.length;
        await this.dataSource.query(APPEND, [id, seq++, data]);
      }
    };
    try {
      for await (const chunk of chunks) {
        onChunk(chunk);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= STAGING_CHUNK_BYTES) await flush(false);
      }
      await flush(true);
      await this.dataSource.query(COMPLETE, [id, size]);
      return { stagingId: id, size };
    } catch (error) {
      await this.discard(id);
      throw error;
    }
  }

  async discard(stagingId: string): Promise<void> {
    await this.dataSource.query(DISCARD, [stagingId]);
  }

  /** Deletes staged files no message took, an hour on (any replica; a bounded batch). */
  async sweepUnlinked(): Promise<void> {
    await this.dataSource.query(SWEEP_UNLINKED);
  }
}

/** A staged file's bytes, read one chunk at a time as the reader asks for them. */
export function openStagedMedia(dataSource: DataSource, stagingId: string): Readable {
  let seq = 0;
  return new Readable({
    read() {
      const first = seq === 0;
      dataSource.query(CHUNK, [stagingId, seq++]).then(
        (rows: { data: Buffer }[]) => {
          // No first chunk: the file is gone (never an empty file: the upload refuses those).
          if (first && !rows[0]) this.destroy(new Error(`staged media ${stagingId} is gone`));
          else this.push(rows[0] ? rows[0].data : null);
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}
