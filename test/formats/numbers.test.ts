import { encode as encodeMsgpack } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import request from 'supertest'
import { expectPrototypesUntouched, frameworks, sendBytes } from '../helpers/app.js'
import { encodeProto, formatApp, media, post } from './helpers.js'

// The number edge cases of docs/FORMATS.md ("Numbers, format by format"), each sent in every
// format that can spell it, through a real app: each gives the value or the refusal the
// table says. A refusal is [status, type]; a value is what the handler received as `a`.

type Outcome = { value: unknown } | { refused: [number, string] }
const value = (v: unknown): Outcome => ({ value: v })
const refused = (status: number, type: string): Outcome => ({ refused: [status, type] })
const unmapped = refused(400, 'entity.type.unmapped')
const malformed = refused(400, 'entity.parse.failed')

/** A MessagePack map { a: <float64> }, written by hand so that -0 and NaN stay floats. */
function msgpackDouble(n: number): Buffer {
  const bytes = Buffer.from([0x81, 0xa1, 0x61, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0])
  bytes.writeDoubleBE(n, 4)
  return bytes
}

type Format = 'json' | 'yaml' | 'msgpack' | 'protobuf' | 'urlencoded'
interface Row {
  name: string
  cases: Array<[Format, Buffer | string, Outcome]>
}

const big = 2n ** 53n + 1n
const rows: Row[] = [
  {
    name: 'overflow',
    cases: [
      ['json', '{"a":1e400}', unmapped],
      ['json', '{"a":-1.8e308}', unmapped],
      ['yaml', 'a: 1e400', unmapped],
      ['yaml', 'a: 1.8e308', unmapped],
      ['yaml', 'a: .inf', unmapped],
      ['msgpack', msgpackDouble(Infinity), unmapped],
      ['protobuf', encodeProto('test.Sample', { score: -Infinity }), unmapped],
      ['urlencoded', 'a=1e400', value('1e400')],
    ],
  },
  {
    name: 'negative zero',
    cases: [
      ['json', '{"a":-0}', value(-0)],
      ['yaml', 'a: -0', value(-0)],
      ['yaml', 'a: -0.0', value(-0)],
      ['msgpack', msgpackDouble(-0), value(-0)],
      ['protobuf', encodeProto('test.Sample', { score: -0 }), value(-0)],
      ['urlencoded', 'a=-0', value('-0')],
    ],
  },
  {
    name: '2^53 + 1',
    cases: [
      ['json', `{"a":${big}}`, unmapped],
      // With a fraction the literal is not an integer: the nearest double, as JSON.parse reads it.
      ['json', `{"a":${big}.0}`, value(2 ** 53)],
      ['yaml', `a: ${big}`, unmapped],
      ['msgpack', Buffer.from(encodeMsgpack({ a: big }, { useBigInt64: true })), unmapped],
      ['protobuf', encodeProto('test.Kitchen', { big: big.toString() }), unmapped],
      ['urlencoded', `a=${big}`, value(big.toString())],
    ],
  },
  {
    name: '2^60 (beyond 2^53, exact)',
    cases: [
      ['json', `{"a":${2n ** 60n}}`, value(2 ** 60)],
      ['yaml', `a: ${2n ** 60n}`, value(2 ** 60)],
      [
        'msgpack',
        Buffer.from(encodeMsgpack({ a: 2n ** 60n }, { useBigInt64: true })),
        value(2 ** 60),
      ],
      ['protobuf', encodeProto('test.Kitchen', { big: (2n ** 60n).toString() }), value(2 ** 60)],
    ],
  },
  {
    name: 'long literals',
    cases: [
      ['json', '{"a":0.1000000000000000000000000001}', value(0.1)],
      ['yaml', 'a: 0.1000000000000000000000000001', value(0.1)],
      ['json', `{"a":1${'0'.repeat(400)}}`, unmapped],
      // The last of two equal keys wins, but the text still holds the first's literal (a 500
      // before: the text's check met an integer past the largest double).
      ['json', `{"a":1${'0'.repeat(400)},"a":${big}}`, unmapped],
      ['yaml', `a: 1${'0'.repeat(400)}`, unmapped],
      ['json', '{"a":1e-400}', value(0)],
      ['yaml', 'a: 1e-400', value(0)],
    ],
  },
  {
    name: 'NaN',
    cases: [
      ['json', '{"a":NaN}', malformed],
      ['yaml', 'a: .nan', unmapped],
      ['msgpack', msgpackDouble(NaN), unmapped],
      ['protobuf', encodeProto('test.Sample', { score: NaN }), unmapped],
    ],
  },
  {
    name: 'hexadecimal',
    cases: [
      ['json', '{"a":0x10}', malformed],
      ['yaml', 'a: 0x10', value(16)],
      ['urlencoded', 'a=0x10', value('0x10')],
    ],
  },
  {
    name: 'octal',
    cases: [
      ['json', '{"a":017}', malformed],
      ['yaml', 'a: 0o17', value(15)],
      ['yaml', 'a: 017', value(17)],
    ],
  },
  {
    name: 'underscores',
    cases: [
      ['json', '{"a":1_000}', malformed],
      ['yaml', 'a: 1_000', value('1_000')],
    ],
  },
]

const types: Record<Format, string> = {
  ...media,
  urlencoded: 'application/x-www-form-urlencoded',
}

describe.each(frameworks)('number edge cases through %s', (_name, express) => {
  const route = {
    schema: {},
    formats: ['json', 'yaml', 'msgpack', 'protobuf', 'urlencoded'],
  } as const
  const { app, seen } = formatApp(express, {
    routes: {
      'POST /sample': { ...route, message: 'test.Sample' },
      'POST /kitchen': { ...route, message: 'test.Kitchen' },
    },
  })

  describe.each(rows)('$name', ({ cases }) => {
    it.each(
      cases.map(
        ([format, body, outcome]) => [format, String(body).slice(0, 40), body, outcome] as const,
      ),
    )('%s %s', async (format, _label, body, outcome) => {
      seen.bodies.length = 0
      const path = format === 'protobuf' && /big/.test(String(outcome)) ? '/kitchen' : '/sample'
      const target = format === 'protobuf' && isKitchen(body) ? '/kitchen' : path
      // superagent form-encodes a Buffer sent as a form: send the bytes as they are.
      const res =
        format === 'urlencoded'
          ? await sendBytes(request(app).post(target).set('content-type', types[format]), body)
          : await post(app, target, types[format], body)
      if ('refused' in outcome) {
        expect([res.status, res.body.type]).toEqual(outcome.refused)
        expect(seen.bodies).toEqual([])
      } else {
        expect(res.status).toBe(200)
        const got = seen.bodies[0] as Record<string, unknown>
        const a = format === 'protobuf' ? (got.score ?? got.big) : got.a
        expect(Object.is(a, outcome.value), `${String(a)} is ${String(outcome.value)}`).toBe(true)
      }
      expectPrototypesUntouched()
    })
  })
})

/** Kitchen's int64 field 1 is a varint (tag 0x08); Sample's double `score` is field 2 (0x11). */
function isKitchen(body: Buffer | string): boolean {
  return Buffer.isBuffer(body) && body[0] === 0x08
}
