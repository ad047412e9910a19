/**
 * application/octet-stream: the bytes as one base64 string (RFC 4648 §4, padded).
 *
 * A Buffer is not in the data model, so it could not be validated; base64 is what a JSON
 * API would send for the same bytes, and a schema can say so:
 * `{ type: 'string', contentEncoding: 'base64' }`. The body's size is bounded by the
 * route's byte `limit`, read before this runs; maxStringLength does not apply, since this
 * string is not one the client chose but the representation of the whole body.
 */
export function decodeRaw(bytes: Buffer): string {
  return bytes.toString('base64')
}
