/**
 * The largest blob a store keeps inline, in its uri, when the caller allows it (`put(data,
 * { inline: true })`).
 *
 * Why 512: a file costs ~11 filesystem calls and 2 fsyncs however small it is, which dominates a
 * stage whose output is a 100-byte JSON report. Inline, the bytes become durable with the
 * artifact's row in Postgres instead. The uri is base64 (4/3 of the bytes, ~720 characters at
 * the limit) and travels in every ArtifactRef: the artifact row, the stage events and the jobs
 * that consume it. 512 bytes keeps the row well under Postgres' ~2 KB TOAST threshold and the
 * queue payloads small, while covering no-op outputs and small metric reports. Anything larger
 * gains little from skipping a file.
 */
export const INLINE_BLOB_MAX_BYTES = 512;

/**
 * The one form of `data:` uri a store produces. Readers accept exactly this form, so a uri from
 * elsewhere (another media type, percent-encoding) is refused rather than guessed at.
 */
const INLINE_PREFIX = 'data:application/octet-stream;base64,';

export function isInlineUri(uri: string): boolean {
  return uri.startsWith('data:');
}

export function encodeInlineUri(bytes: Uint8Array): string {
  return `${INLINE_PREFIX}${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/**
 * The bytes of an inline uri, or undefined when it is not one this store could have written.
 * The size limit is not enforced here: rows written under a larger limit must stay readable.
 */
export function decodeInlineUri(uri: string): Uint8Array | undefined {
  if (!uri.startsWith(INLINE_PREFIX)) return undefined;
  const payload = uri.slice(INLINE_PREFIX.length);
  // Buffer.from(…, 'base64') skips characters it does not know; a canonical re-encoding must
  // give back the payload, so a damaged uri fails instead of decoding to other bytes.
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.toString('base64') !== payload) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
