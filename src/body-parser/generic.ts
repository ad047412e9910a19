import type { json } from './json.js'
import type { raw } from './raw.js'
import type { msgpack, protobuf, yaml } from './structured.js'
import type { text } from './text.js'
import type { urlencoded } from './urlencoded.js'

/**
 * `safebody/body-parser`: body-parser 2.x's API over safebody's read path. Calling it
 * directly throws, as body-parser 2.x does; its parsers are properties and named exports.
 */
export interface BodyParser {
  (): never
  json: typeof json
  raw: typeof raw
  text: typeof text
  urlencoded: typeof urlencoded
  /** Beyond body-parser: the formats it never had, on the same read path. */
  msgpack: typeof msgpack
  yaml: typeof yaml
  protobuf: typeof protobuf
}

/** body-parser 2.x's `bodyParser()` generic: calling it throws, as body-parser 2.x does. */
export function bodyParser(): never {
  throw new Error(
    'The bodyParser() generic has been split into individual middleware to use instead.',
  )
}
