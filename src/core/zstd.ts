import stream, { type Duplex, Transform, type TransformCallback } from 'node:stream'
import zlib from 'node:zlib'

// zstd exists from Node 22.15 and 23.8; @types/node for Node 20 does not declare it.
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform })
  .createZstdDecompress

// stream.compose exists wherever zstd does; @types/node for Node 20 does not declare it.
const { compose } = stream as unknown as {
  compose: (...streams: NodeJS.ReadWriteStream[]) => Duplex
}

/** Whether this Node decodes zstd at all. */
export const hasZstd = createZstdDecompress !== undefined

/**
 * A zstd decompressor held to gzip's rules: the body is one zstd frame, complete, with
 * nothing after it. Node's own decompressor is not enough on its own: Node 22 ends a frame
 * cut short quietly with the bytes it had, and decodes only the first of two frames; Node 24
 * ignores bytes after a frame. `null` where Node has no zstd.
 */
export function createZstdInflater(): Duplex | null {
  if (createZstdDecompress === undefined) return null
  const inflater = compose(new ZstdFrame(), createZstdDecompress())
  // The reader listens while it reads; once it has settled, it destroys the inflater, and a
  // composed stream destroyed without an error reports an AbortError nobody waits for.
  inflater.on('error', () => {})
  return inflater
}

const ZSTD_MAGIC = 0xfd2fb528
const DICTIONARY_ID_BYTES = [0, 1, 2, 4]

type Part = 'magic' | 'descriptor' | 'block' | 'done'

/**
 * Passes the compressed bytes through unchanged while walking the frame's structure (RFC
 * 8878 §3.1.1: magic, header, blocks, optional checksum), without decompressing anything;
 * fails on a wrong magic number, on bytes after the frame, and on an end inside it.
 */
class ZstdFrame extends Transform {
  #part: Part = 'magic'
  #need = 4 // header bytes to collect for #part
  #head: number[] = []
  #skip = 0 // bytes of a header's tail, a block's content or the checksum, not looked at
  #checksum = false

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i)
        this.#skip -= n
        i += n
        continue
      }
      if (this.#part === 'done')
        return done(zstdError('Data after the zstd frame', 'ZSTD_error_srcSize_wrong'))
      this.#head.push(chunk[i++] as number)
      if (this.#head.length < this.#need) continue
      const error = this.#read(this.#head)
      this.#head = []
      if (error) return done(error)
    }
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    const complete = this.#part === 'done' && this.#skip === 0
    done(complete ? null : zstdError('unexpected end of file', 'Z_BUF_ERROR', -5))
  }

  // One header, complete: say what comes next and how many bytes to pass over first.
  #read(head: number[]): Error | null {
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = head
    switch (this.#part) {
      case 'magic':
        if ((b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0 !== ZSTD_MAGIC) {
          return zstdError('Unknown frame descriptor', 'ZSTD_error_prefix_unknown', 10)
        }
        this.#part = 'descriptor'
        this.#need = 1
        return null
      case 'descriptor': {
        const contentSizeFlag = b0 >> 6
        const singleSegment = (b0 & 0x20) !== 0
        const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag] as number
        this.#checksum = (b0 & 0x04) !== 0
        this.#skip =
          (singleSegment ? 0 : 1) + (DICTIONARY_ID_BYTES[b0 & 3] as number) + contentSizeBytes
        this.#part = 'block'
        this.#need = 3
        return null
      }
      case 'block': {
        const header = b0 | (b1 << 8) | (b2 << 16)
        const last = (header & 1) === 1
        const type = (header >> 1) & 3
        const size = header >>> 3
        // Raw and compressed blocks carry `size` bytes, an RLE block one; type 3 is reserved.
        if (type === 3)
          return zstdError('Corrupted block detected', 'ZSTD_error_corruption_detected', 20)
        this.#skip = type === 1 ? 1 : size
        if (last) {
          this.#skip += this.#checksum ? 4 : 0
          this.#part = 'done'
        }
        return null
      }
      default:
        return null
    }
  }
}

// Errors shaped like zlib's, so a caller tells them apart from its own only by message.
function zstdError(message: string, code: string, errno?: number): Error {
  return Object.assign(new Error(message), { code, ...(errno === undefined ? {} : { errno }) })
}
