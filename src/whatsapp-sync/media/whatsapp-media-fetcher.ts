import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import type { MessageMediaFetcher } from '../../messages/message-media-fetcher';
import type { MessageMediaSource } from '../../messages/messages.repository';
import { CredentialCipher } from '../auth-state/credential-cipher';
import { ConnectionSupervisor } from '../connection/connection-supervisor';
import { mediaNeedsConnection } from '../connection/session-runner';
import { loadBaileys } from '../sync/baileys';
import { mediaKeyContext } from '../sync/message-sync.writer';

/** Downloads and decrypts media from WhatsApp's servers: Baileys' downloadContentFromMessage (a test replaces it). */
export type MediaDownload = (
  media: { mediaKey: Buffer; directPath?: string; url?: string },
  kind: 'image' | 'video' | 'audio' | 'document' | 'sticker',
) => Promise<Readable>;

export const MEDIA_DOWNLOAD = Symbol('MEDIA_DOWNLOAD');

export const baileysMediaDownload: MediaDownload = async (media, kind) => (await loadBaileys()).downloadContentFromMessage(media, kind);

const KIND: Record<string, { kind: Parameters<MediaDownload>[1]; field: string }> = {
  image: { kind: 'image', field: 'imageMessage' },
  video: { kind: 'video', field: 'videoMessage' },
  audio: { kind: 'audio', field: 'audioMessage' },
  voice: { kind: 'audio', field: 'audioMessage' },
  document: { kind: 'document', field: 'documentMessage' },
  sticker: { kind: 'sticker', field: 'stickerMessage' },
};

/** WhatsApp's answer when it no longer has the file: the phone must upload it again. */
const GONE = new Set([404, 410]);

/**
 * The media of a stored message, on demand: only while the session is connected (409 otherwise),
 * downloaded from WhatsApp's media servers and decrypted as it streams; when WhatsApp answers that
 * the file is gone, the session's holder asks the phone to upload it again (ConnectionSupervisor
 * routes that to whichever replica holds the session), the new location is stored, and the
 * download is tried once more.
 */
@Injectable()
export class WhatsAppMediaFetcher implements MessageMediaFetcher {
  private readonly logger = new Logger('MessageMedia');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
    private readonly supervisor: ConnectionSupervisor,
    @Inject(MEDIA_DOWNLOAD) private readonly download: MediaDownload,
  ) {}

  async open(sessionId: string, source: MessageMediaSource): Promise<Readable> {
    const [session] = await this.dataSource.query<{ status: string }[]>(`SELECT status FROM sessions WHERE id = $1`, [sessionId]);
    if (session?.status !== 'connected') throw mediaNeedsConnection();
    const { kind, field } = KIND[source.message.type];
    const mediaKey = this.cipher.decrypt(source.encryptedMediaKey!, mediaKeyContext(sessionId, source.waId, source.fromMe));
    const location = { directPath: source.directPath, url: source.url };
    try {
      return await this.download({ mediaKey, directPath: location.directPath ?? undefined, url: location.url ?? undefined }, kind);
    } catch (error) {
      const status = (error as { output?: { statusCode?: number } }).output?.statusCode;
      if (status === undefined || !GONE.has(status)) throw error;
      this.logger.log({ sessionId, messageId: source.message.id }, 'media is gone from WhatsApp; asking the phone to upload it again');
    }
    const moved = await this.supervisor.reuploadMedia(sessionId, {
      key: { remoteJid: source.remoteJid, id: source.waId, fromMe: source.fromMe, participant: source.participant },
      contentField: field,
      mediaKey,
      directPath: location.directPath,
      url: location.url,
    });
    await this.dataSource.query(
      `UPDATE messages SET media = media || jsonb_strip_nulls(jsonb_build_object('directPath', $3::text, 'url', $4::text)) WHERE session_id = $1 AND id = $2`,
      [sessionId, source.message.id, moved.directPath, moved.url],
    );
    return this.download({ mediaKey, directPath: moved.directPath ?? undefined, url: moved.url ?? undefined }, kind);
  }
}
