import busboy from 'busboy';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MEDIA_KINDS, MediaKind, MediaLimits } from '../../config/app-config';
import { AppError } from '../../common/errors/app-error';
import type { StreamedBody } from '../../common/http/streamed-body';
import { isMultipartContentType } from '../../http/json-body';

/** The text fields of a media send (docs/sending.md, "Media"); the file is the part named `media`. */
export const MEDIA_FORM_FIELDS = ['to', 'type', 'caption', 'fileName', 'replyTo'] as const;
export type MediaFormField = (typeof MEDIA_FORM_FIELDS)[number];
const FIELD_NAMES: ReadonlySet<string> = new Set(MEDIA_FORM_FIELDS);
/** The longest text field: a caption (WhatsApp's own limit for a text is 4,096 characters; 4 bytes each at most). */
const MAX_FIELD_BYTES = 16_384;

/** A read media form: its text fields, and its file as the staging stored it. */
export interface MediaForm {
  fields: Partial<Record<MediaFormField, string>>;
  kind: MediaKind;
  /** The file part's content type, lower-cased, without parameters. */
  mimetype: string;
  /** The file name the part carried, if any. */
  partFileName: string | null;
  stagingId: string;
  size: number;
  /** SHA-256 of the file's bytes, computed as they streamed in. */
  sha256: Buffer;
}

/** Where a file is stored as it streams in (media-staging.ts): `onChunk` may throw to stop it, which deletes it. */
export interface FileStaging {
  stage(chunks: AsyncIterable<Buffer>, onChunk: (chunk: Buffer) => void): Promise<{ stagingId: string; size: number }>;
  discard(stagingId: string): Promise<void>;
}

/** Whether `mimetype` is one of `allowed` (`type/*` takes any subtype, a lone star-slash-star any type). */
export function mimetypeAllowed(mimetype: string, allowed: readonly string[]): boolean {
  const [type] = mimetype.split('/');
  return allowed.some((entry) => entry === '*/*' || entry === mimetype || entry === `${type}/*`);
}

const isMediaKind = (value: string): value is MediaKind => (MEDIA_KINDS as readonly string[]).includes(value);
const invalid = (message: string, parameter: string) => AppError.invalidArgument(message, { parameter });

/**
 * Reads a multipart/form-data send: the text fields (each once; `type` before the file, so that
 * the file's limits are known while it streams) and exactly one file part, `media`, which is
 * checked against its kind's content types (415) and size limit (413, as soon as it is passed)
 * and staged as it arrives, never held whole in memory. Anything refused part way closes the
 * connection after the answer and deletes what was staged.
 */
export function readMediaForm(body: StreamedBody, limits: MediaLimits, staging: FileStaging): Promise<MediaForm> {
  if (!isMultipartContentType(body.contentType)) throw invalid('a media send must be multipart/form-data', 'body');
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': body.contentType! },
      limits: { files: 1, fields: MEDIA_FORM_FIELDS.length, parts: MEDIA_FORM_FIELDS.length + 1, fieldSize: MAX_FIELD_BYTES, fieldNameSize: 64 },
    });
  } catch {
    throw invalid('the multipart body has no valid boundary', 'body');
  }
  return new Promise<MediaForm>((resolve, reject) => {
    const fields: MediaForm['fields'] = {};
    let file: Promise<Omit<MediaForm, 'fields'>> | undefined;
    let fileStream: Readable | undefined;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      body.closeConnection();
      body.stream.unpipe(parser);
      // A file still streaming stops (its staging deletes what it stored), one staged in full
      // before the form failed (a later field refused) is not kept.
      fileStream?.destroy();
      void file?.then(
        (staged) => staging.discard(staged.stagingId),
        () => undefined,
      );
      reject(error);
    };

    parser.on('field', (name, value, info) => {
      if (failed) return;
      if (!FIELD_NAMES.has(name)) return fail(invalid(`unknown field ${name}: a media send takes ${MEDIA_FORM_FIELDS.join(', ')} and the file media`, name));
      if (info.valueTruncated) return fail(invalid(`${name} is too long`, name));
      if (fields[name as MediaFormField] !== undefined) return fail(invalid(`${name} is given twice`, name));
      fields[name as MediaFormField] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (failed) return void stream.resume();
      if (name !== 'media') {
        stream.resume();
        return fail(invalid(`unknown file part ${name}: send the file as the part named media`, name));
      }
      const kind = fields.type;
      if (kind === undefined) {
        stream.resume();
        return fail(invalid('give type before the media part (the file is checked against its kind while it streams)', 'type'));
      }
      if (!isMediaKind(kind)) {
        stream.resume();
        return fail(invalid(`type must be one of ${MEDIA_KINDS.join(', ')}`, 'type'));
      }
      const limit = limits[kind];
      const mimetype = info.mimeType.split(';')[0].trim().toLowerCase();
      if (!mimetypeAllowed(mimetype, limit.types)) {
        stream.resume();
        return fail(
          new AppError('unsupported_media_type', `${article(kind)} must be one of ${limit.types.join(', ')} (got ${mimetype || 'none'})`, {
            parameter: 'media',
            type: kind,
            mimetype,
            allowed: limit.types,
          }),
        );
      }
      fileStream = stream;
      file = stageFile(stream, kind, limit.maxBytes, staging).then((staged) => ({
        ...staged,
        kind: kind,
        mimetype,
        partFileName: info.filename ? baseName(info.filename) : null,
      }));
      file.catch((error: Error) => {
        stream.resume();
        fail(error);
      });
    });
    parser.on('filesLimit', () => fail(invalid('send one file: a media send takes exactly one media part', 'media')));
    parser.on('fieldsLimit', () => fail(invalid('too many fields', 'body')));
    parser.on('partsLimit', () => fail(invalid('too many parts', 'body')));
    parser.on('error', () => fail(invalid('the multipart body is malformed or ended early', 'body')));
    parser.on('close', () => {
      if (failed) return;
      if (!file) return fail(invalid('the media part (the file) is missing', 'media'));
      file.then((staged) => (failed ? undefined : resolve({ fields, ...staged })), fail);
    });
    body.stream.on('error', () => fail(invalid('the request body ended early', 'body')));
    body.stream.pipe(parser);
  });
}

/** Stages a file part, counting and hashing it, refusing it once it passes `maxBytes` (or when empty). */
async function stageFile(
  stream: Readable,
  kind: MediaKind,
  maxBytes: number,
  staging: FileStaging,
): Promise<{ stagingId: string; size: number; sha256: Buffer }> {
  const hash = createHash('sha256');
  let size = 0;
  const staged = await staging.stage(stream as AsyncIterable<Buffer>, (chunk) => {
    size += chunk.length;
    if (size > maxBytes) {
      throw new AppError('payload_too_large', `${article(kind)} may be at most ${maxBytes} bytes`, { parameter: 'media', type: kind, limit: maxBytes });
    }
    hash.update(chunk);
  });
  if (staged.size === 0) {
    await staging.discard(staged.stagingId);
    throw invalid('the media part is empty', 'media');
  }
  return { ...staged, sha256: hash.digest() };
}

const article = (kind: MediaKind) => (kind === 'image' || kind === 'audio' ? `an ${kind}` : kind === 'voice' ? 'a voice note' : `a ${kind}`);

/** A part's file name as a document's name: its last path segment, without control characters, at most 255 characters. */
function baseName(name: string): string | null {
  const last = name.split(/[\\/]/).pop() ?? '';
  const clean = [...last]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .slice(0, 255)
    .trim();
  return clean === '' ? null : clean;
}
