import type { RequestHandler } from 'express'
import { expectTypeOf, test } from 'vitest'
import bodyParser from 'safebody/body-parser'
import json from 'safebody/body-parser/json'
import raw from 'safebody/body-parser/raw'
import text from 'safebody/body-parser/text'
import urlencoded from 'safebody/body-parser/urlencoded'

// Through the package's exports, as body-parser 2.4's subpaths are imported.
test('each parser subpath types as the parser on the main entry', () => {
  expectTypeOf(json).toEqualTypeOf(bodyParser.json)
  expectTypeOf(raw).toEqualTypeOf(bodyParser.raw)
  expectTypeOf(text).toEqualTypeOf(bodyParser.text)
  expectTypeOf(urlencoded).toEqualTypeOf(bodyParser.urlencoded)
  expectTypeOf(json({ limit: '1mb', strict: true })).toExtend<RequestHandler>()
  // @ts-expect-error: not a json() option
  json({ limit: 1, nope: true })
})
