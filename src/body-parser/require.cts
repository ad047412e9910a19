// The CommonJS entry of safebody/body-parser: `require()` returns the callable itself, with
// .json, .raw, .text and .urlencoded on it, as `require('body-parser')` does. The named
// exports and a `default` are added so that `import` compiled to CommonJS works too.
// The formats body-parser never had (msgpack, yaml, protobuf, formatParser) are loaded when
// first read: an app that parses JSON, forms or text loads no other decoder, no MessagePack,
// protobuf or YAML library and no validator.
import generic = require('./generic.js')
import jsonParser = require('./json.js')
import rawParser = require('./raw.js')
import textParser = require('./text.js')
import urlencodedParser = require('./urlencoded.js')
import type { BodyParser } from './generic.js'
import type * as Format from './format.js'
import type * as Structured from './structured.js'

type Entry = BodyParser & { formatParser: typeof Format.formatParser; default: BodyParser }

const entry = Object.assign(generic.bodyParser, {
  json: jsonParser.json,
  raw: rawParser.raw,
  text: textParser.text,
  urlencoded: urlencodedParser.urlencoded,
}) as Entry

// require() inside a getter: the module loads on first use.
const structured = (): typeof Structured => require('./structured.js') as typeof Structured
const format = (): typeof Format => require('./format.js') as typeof Format

onFirstRead('msgpack', () => structured().msgpack)
onFirstRead('yaml', () => structured().yaml)
onFirstRead('protobuf', () => structured().protobuf)
onFirstRead('formatParser', () => format().formatParser)
entry.default = entry

/** Define `entry[key]` as a getter that loads the value once, then becomes a plain property. */
function onFirstRead<K extends keyof Entry>(key: K, load: () => Entry[K]): void {
  Object.defineProperty(entry, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = load()
      Object.defineProperty(entry, key, {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      })
      return value
    },
  })
}

export = entry
