// The Standard Schema validate stage on its own (issues, paths, messages, versions), and
// through the other adapters: safebody/node, fastify, and beside an OpenAPI document.
import { request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import createError from 'http-errors'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import {
  isBodyError,
  safeBody,
  type StandardSchemaIssue,
  type StandardSchemaV1,
} from '../../src/index.js'
import { jsonPointer, standardValidator } from '../../src/core/standard.js'
import safebody, { problemDetails } from '../../src/fastify.js'
import { createBodyReader } from '../../src/node.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  listen,
  sendBytes,
} from '../helpers/app.js'
import { libraries } from './libraries.js'
import { thenableOutput } from '../adapters/contract.js'

/** A Standard Schema written by hand, answering with the given issues (or the value). */
function handWritten(
  issues: StandardSchemaIssue[] | null,
  version = 1,
): StandardSchemaV1<unknown, unknown> {
  return {
    '~standard': {
      version: version as 1,
      vendor: 'hand',
      validate: (value) => (issues === null ? { value } : { issues }),
    },
  }
}

function refusal(run: () => unknown) {
  try {
    run()
  } catch (err) {
    if (isBodyError(err)) return err
    throw err
  }
  throw new Error('the validator did not refuse')
}

describe('standardValidator', () => {
  it('writes paths as JSON Pointers, path segment objects and escapes included', () => {
    expect(jsonPointer([])).toBe('')
    expect(jsonPointer(['items', 0, 'sku'])).toBe('/items/0/sku')
    expect(jsonPointer(['a/b', 'c~d'])).toBe('/a~1b/c~0d')
    const validate = standardValidator(
      handWritten([
        { message: 'bad', path: [{ key: 'items' }, { key: 2 }, 'x'] },
        { message: 'm' },
      ]),
      'hand',
    )
    expect(refusal(() => validate({ items: [0, 1, { x: 1 }] })).errors).toEqual([
      { instancePath: '/items/2/x', keyword: 'standard', message: 'bad' },
      { instancePath: '', keyword: 'standard', message: 'm' },
    ])
  })

  it('points only as deep as the body goes: the last key if the body left it out, nothing past it', () => {
    const issues = [
      { message: 'required', path: ['name'] },
      { message: 'made by a default', path: ['a', 'b'] },
      { message: 'inside a parsed string', path: ['d', 'hunter2secret', 0] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ d: '{}' }))
    expect(err.errors?.map((e) => e.instancePath)).toEqual(['/name', '', '/d'])
  })

  it('masks a parsed key that starts the message, and a long one wherever the cap falls', () => {
    const pad = 'x'.repeat(60)
    const long = ['a' + pad, 'b' + pad, `hunter2secret-4111111111111111-${pad}`]
    const root = refusal(() =>
      standardValidator(
        handWritten([{ message: 'hunter2secret must be removed', path: ['hunter2secret'] }]),
        'hand',
      )('{}'),
    )
    expect(root.errors?.[0]?.message).toBe('… must be removed')
    const issues = [
      { message: `Unrecognized keys: "${long.join('", "')}"`, path: ['d'], keys: long },
    ]
    const d = refusal(() => standardValidator(handWritten(issues), 'hand')({ d: '{}' }))
    expect(d.errors?.[0]?.message).toBe('Unrecognized keys: "…", "…", "…"')
  })

  it('masks the keys of a JSON string the schema parsed, where a message names them', () => {
    // The body holds a string; the schema parsed it and refused keys inside: those are the
    // client's data, not names. Keys the body does have stay.
    const d = '{"a":"x","hunter2secret":1}'
    const issues = [
      { message: 'Unrecognized key: "hunter2secret"', path: ['d'], keys: ['hunter2secret'] },
      { message: 'd.hunter2secret must be removed', path: ['d', 'hunter2secret'] },
      { message: 'd.hunter2secretive is fine', path: ['d', 'hunter2secret'] },
      { message: 'value at ["hunter2secret"] must be removed', path: ['d', 'hunter2secret'] },
      {
        message: 'Invalid key: Expected never but received "hunter2secret"',
        path: ['d', 'hunter2secret'],
      },
      {
        message: 'Unrecognized keys: "extra", "hunter2secret"',
        path: [],
        keys: ['extra', 'hunter2secret'],
      },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ d, extra: 1 }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      'Unrecognized key: "…"',
      'd.… must be removed',
      'd.hunter2secretive is fine',
      'value at ["…"] must be removed',
      'Invalid key: Expected never but received …',
      'Unrecognized keys: "extra", "…"',
    ])
    expect(err.errors?.map((e) => e.instancePath)).toEqual(['/d', '/d', '/d', '/d', '/d', ''])
  })

  it('hands a client at most 100 issues and 200 characters of a message', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ message: 'm'.repeat(1000), path: [i] }))
    const err = refusal(() => standardValidator(handWritten(many), 'hand')([]))
    expect(err.status).toBe(422)
    expect(err.errors).toHaveLength(100)
    expect(err.errors?.[0]?.message).toHaveLength(200)
  })

  it('cuts the refused string out of a message wherever it is quoted', () => {
    const secret = 'she said "hi"\n'
    const issues = [
      { message: `was "${secret}"`, path: ['s'] },
      { message: `was ${JSON.stringify(secret)}`, path: ['s'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: secret }))
    expect(err.errors?.map((e) => e.message)).toEqual(['was "…"', 'was "…"'])
  })

  it('cuts the refused string out where a message holds it unquoted, in a word or not', () => {
    const issues = [
      { message: 'bad value secret123 here', path: ['s'] },
      { message: 'bad value:secret123.', path: ['s'] },
      { message: 'xsecret123y and secret123secret123', path: ['s'] },
      { message: 'bad value SECRET123, secret123', path: ['s'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: 'secret123' }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      'bad value … here',
      'bad value:….',
      'x…y and ……',
      'bad value …, …',
    ])
    // Trimmed, composed, in a language without spaces, and as the library checked it.
    const spelt = [
      { message: 'bad value secret123', path: ['s'] },
      { message: 'bad value cafés', path: ['t'] },
      { message: '東京都港区は無効です', path: ['u'] },
      { message: 'bad value trans4med', path: ['s'], input: 'trans4med' } as StandardSchemaIssue,
    ]
    const body = { s: '  secret123 ', t: 'cafe\u0301s', u: '東京都港区' }
    expect(refusal(() => standardValidator(handWritten(spelt), 'hand')(body)).errors).toMatchObject(
      [{ message: 'bad value …' }, { message: 'bad value …' }, { message: '…は無効です' }, {}],
    )
    const checked = refusal(() => standardValidator(handWritten(spelt.slice(3)), 'hand')(body))
    expect(checked.errors).toMatchObject([{ message: 'bad value …' }])
    // A long number is cut (a card number); a stray quote quotes nothing, not even with a
    // later quote after the value; the value quoted whole is cut too.
    const card = [
      { message: 'card 4111111111111111 is not accepted', path: ['s'] },
      { message: 'bad "value: 4111111111111111', path: ['s'] },
      { message: 'under 12" (got 4111111111111111); see "docs"', path: ['s'] },
      { message: '"c: 4111111111111111 is bad, "see docs"', path: ['s'] },
      { message: 'bad "4111111111111111"', path: ['s'] },
    ]
    const cut = refusal(() =>
      standardValidator(handWritten(card), 'hand')({ s: '4111111111111111' }),
    )
    expect(cut.errors?.map((e) => e.message)).toEqual([
      'card … is not accepted',
      'bad "value: …',
      'under 12" (got …); see "docs"',
      '"c: … is bad, "see docs"',
      'bad "…"',
    ])
    // A quote the value stood against opens no literal once the value is cut.
    const against = [{ message: 'token=SK_LIVE_1"sk_live_1"', path: ['s'] }]
    expect(
      refusal(() => standardValidator(handWritten(against), 'hand')({ s: 'SK_LIVE_1' })).errors,
    ).toMatchObject([{ message: 'token=…"…"' }])
  })

  // The libraries print what the schema allows in double quotes: a value sent padded, in
  // another case, or a part of an option, leaves it whole.
  it.each([
    ['IN_PROGRESS', 'Invalid option: expected one of "todo"|"in_progress"|"done"'],
    ['in_prog', 'Invalid option: expected one of "todo"|"in_progress"|"done"'],
    ['in_progress ', 'Invalid option: expected one of "todo"|"in_progress"|"done"'],
    [' https://', 'Invalid string: must start with "https://"'],
    ['https:', 'Invalid string: must start with "https://"'],
    ['Read-Only', 's must be "read-only" or "read-write" (was …)'],
  ])('leaves an option %j holds a part or another case of', (value, message) => {
    const issues = [{ message, path: ['s'] }]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: value }))
    expect(err.errors).toMatchObject([{ message }])
  })

  // The libraries spell their type names, formats and bounds alike: a value that spells one,
  // or any short plain word, is no payload and no secret, and cutting it would cut them.
  it.each([
    ['number', 'Invalid input: expected number, received string'],
    ['100', 'Too big: expected number to be <100'],
    ['-1.5e3', 'must be more than -1.5e3'],
    ['email', 'Invalid email address'],
    ['taken', 'name is taken'],
    ['id', 'id is a bad id'],
  ])('leaves %j where the message spells it', (value, message) => {
    const issues = [{ message, path: ['s'] }]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: value }))
    expect(err.errors).toMatchObject([{ message }])
  })

  it('cuts a long value from a long message in linear time', () => {
    // A periodic value held twice: a search restarting inside each match was quadratic
    // (minutes at this size), and the test's timeout fails it.
    const value = 'ab'.repeat(1_000_000)
    const issues = [{ message: `bad value ${value} ${value}!`, path: ['s'] }]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: value }))
    expect(err.errors).toMatchObject([{ message: 'bad value … …!' }])
    // A short value held many times: each quote is counted once, not once an occurrence.
    const many = [{ message: `"x" ${'ab1 '.repeat(500_000)}`, path: ['s'] }]
    const short = refusal(() => standardValidator(handWritten(many), 'hand')({ s: 'ab1' }))
    expect(short.errors?.[0]?.message).toMatch(/^"x" … … …/)
  })

  it('cuts a refused number where a library quotes it (received, was)', () => {
    const issues = [
      { message: 'age must be less than 5 (was 123456789)', path: ['age'] },
      { message: 'Invalid type: Expected string but received 123456789', path: ['age'] },
      // The bound the schema names stays: only the value the issue points at is cut.
      { message: 'Too big: expected number to be <=5', path: ['age'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ age: 123456789 }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      'age must be less than 5 (was …)',
      'Invalid type: Expected string but received …',
      'Too big: expected number to be <=5',
    ])
  })

  it('masks what follows received / (was whatever it holds, not only the value as sent', () => {
    // After the schema's own transforms the library quotes a value the body never held.
    const issues = [
      { message: 'Invalid email: Received "hunter2-secret"', path: ['s'] },
      { message: 'must be less than 5 (was 4111111111111111)', path: ['s'] },
      { message: 'must be valid (was {"a":"x (y) \\"z"})', path: ['s'] },
      { message: "Invalid enum value. Expected 'a' | 'b', received 'c'", path: ['s'] },
      { message: 'Invalid type: Expected true but received false', path: ['s'] },
      { message: 'Invalid value: Expected >=5 but received -3.5', path: ['s'] },
      // What looks like a type name, a count or the key is kept only as the whole tail.
      { message: 'Invalid email: Received "s" hunter2-secret"', path: ['s'] },
      { message: 'Invalid input: expected string, received number 4111111111111111', path: ['s'] },
      { message: 'must be a string (was a string hunter2-secret)', path: ['s'] },
      { message: 'Invalid length: Expected >=9 but received 9 hunter2', path: ['s'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: ' hunter2 ' }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      'Invalid email: Received …',
      'must be less than 5 (was …)',
      'must be valid (was …)',
      "Invalid enum value. Expected 'a' | 'b', received …",
      'Invalid type: Expected true but received …',
      'Invalid value: Expected >=5 but received …',
      'Invalid email: Received …',
      'Invalid input: expected string, received …',
      'must be a string (was …)',
      'Invalid length: Expected >=9 but received …',
    ])
  })

  it("masks an error's own text, which may quote the value (arktype's string.json.parse)", () => {
    const issues = [
      {
        message: `s must be a JSON string (SyntaxError: Unexpected token 'h', "hunter2" is not valid JSON)`,
        path: ['s'],
      },
      {
        message: 's SyntaxError: Invalid regular expression: /hunter2(/: Unterminated group',
        path: ['s'],
      },
      { message: 'TypeError: Cannot convert hunter2 to a BigInt', path: ['s'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: 'x' }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      's must be a JSON string (SyntaxError: …)',
      's SyntaxError: …',
      'TypeError: …',
    ])
  })

  it('keeps a type name, a count and a key named by the path after received / (was', () => {
    const issues = [
      { message: 'Invalid input: expected string, received number', path: ['s'] },
      { message: 'Invalid type: Expected string but received Object', path: ['s'] },
      { message: 'must be a string (was a number)', path: ['s'] },
      { message: 'must be an object (was an array)', path: ['s'] },
      { message: 'name must be a string (was missing)', path: ['name'] },
      // Counts: characters, UTF-8 bytes, items.
      { message: 'Invalid length: Expected >=9 but received 3', path: ['s'] },
      { message: 'Invalid bytes: Expected >=9 but received 5', path: ['s'] },
      { message: 'Invalid key: Expected never but received "s"', path: ['s'] },
      // zod's names for a number that is not finite.
      { message: 'Invalid input: expected number, received NaN', path: ['s'] },
      // arktype starts its message with the path: a key may spell received.
      { message: 'received must be a string (was a number)', path: ['received'] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ s: 'héé' }))
    expect(err.errors?.map((e) => e.message)).toEqual(issues.map((issue) => issue.message))
  })

  it('shortens a key longer than 64 characters in paths and messages', () => {
    const key = `k${'x'.repeat(90_000)}`
    const issues = [
      { message: `Unrecognized key: "${key}"`, path: [], keys: [key] },
      { message: `${key} must be removed`, path: [key] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ [key]: 1 }))
    const short = `k${'x'.repeat(62)}…`
    expect(err.errors?.map((e) => [e.instancePath, e.message])).toEqual([
      ['', `Unrecognized key: "${short}"`],
      [`/${short}`, `${short} must be removed`],
    ])
  })

  it('keeps a key that spells received whole, and masks what follows it', () => {
    const key = 'received 1 (was 2)'
    const issues = [
      { message: `Invalid key: Expected never but received "${key}"`, path: [key] },
      { message: `Invalid key: received "${key}" but received "hunter2"`, path: [key] },
    ]
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')({ [key]: 1 }))
    expect(err.errors?.map((e) => e.message)).toEqual([
      `Invalid key: Expected never but received "${key}"`,
      'Invalid key: received …',
    ])
  })

  it('caps what the validator makes itself: its code, a deep path', () => {
    const issues = [
      { message: 'm', code: 'c'.repeat(10_000), path: Array.from({ length: 5000 }, () => 'key') },
    ]
    let deep: unknown = 'x'
    for (let i = 0; i < 5000; i++) deep = { key: deep }
    const err = refusal(() => standardValidator(handWritten(issues), 'hand')(deep))
    const [issue] = err.errors ?? []
    expect(issue?.keyword).toBe(`${'c'.repeat(63)}…`)
    expect(issue?.instancePath).toHaveLength(256)
    expect(issue?.instancePath.startsWith('/key/key/')).toBe(true)
  })

  it('keeps the numbers a library prints about a string, unless one spells the value', () => {
    const issues = [
      // valibot's minLength and arktype's `string >= 5` print the length, not the value.
      { message: 'Invalid length: Expected >=5 but received 1', path: ['s'] },
      { message: 's must be at least length 5 (was 1)', path: ['s'] },
    ]
    const validate = standardValidator(handWritten(issues), 'hand')
    expect(refusal(() => validate({ s: 'x' })).errors?.map((e) => e.message)).toEqual([
      'Invalid length: Expected >=5 but received 1',
      's must be at least length 5 (was 1)',
    ])
    // The value "1" is also one character long: its count would be the value itself.
    expect(refusal(() => validate({ s: '1' })).errors?.map((e) => e.message)).toEqual([
      'Invalid length: Expected >=5 but received …',
      's must be at least length 5 (was …)',
    ])
  })

  it('shortens every long key a message lists, as far as a client sees it', () => {
    // zod's unrecognized_keys lists them all: each shortened, the whole capped at 200.
    const keys = Array.from({ length: 300 }, (_, i) => `${i}`.padEnd(100, 'k'))
    const message = `Unrecognized keys: "${keys.join('", "')}"`
    const input = Object.fromEntries(keys.map((key) => [key, 1]))
    const err = refusal(() =>
      standardValidator(
        handWritten([{ message, path: [], keys } as StandardSchemaIssue]),
        'hand',
      )(input),
    )
    let expected = message
    for (const key of keys) expected = expected.split(key).join(`${key.slice(0, 63)}…`)
    expect(err.errors?.[0]?.message).toBe(`${expected.slice(0, 199)}…`)
  })

  it('refuses at start-up a schema of another version, naming it', () => {
    expect(() => safeBody({ 'POST /x': handWritten(null, 2) })).toThrow(
      /schema "POST \/x" is a Standard Schema of version 2; safebody reads version 1/,
    )
    expect(() => safeBody().route(handWritten(null, 2))).toThrow(/version 2/)
  })

  it('refuses at start-up a registered schema no route names yet, and one without validate', () => {
    expect(() => safeBody({ schemas: { user: handWritten(null, 2) } })).toThrow(
      /schema "user" is a Standard Schema of version 2/,
    )
    const noValidate = { '~standard': { version: 1, vendor: 'hand' } } as never
    expect(() => safeBody({ schemas: { user: noValidate } })).toThrow(
      /schema "user" is a Standard Schema without a validate function/,
    )
    expect(() => safeBody().route(noValidate)).toThrow(/without a validate function/)
  })

  it('refuses at start-up a Standard Schema in a schemas array, and a clashing id', () => {
    const user = z.object({ name: z.string() })
    expect(() => safeBody({ schemas: [user as never] })).toThrow(/schemas\[0\] is a Standard/)
    expect(() => safeBody({ schemas: { user, other: { $id: 'user', type: 'object' } } })).toThrow(
      /two schemas are registered as "user"/,
    )
  })

  it.each(libraries.filter((l) => l.name !== 'arktype'))(
    '$name never sees a property inherited from a polluted Object.prototype',
    (library) => {
      const validate = standardValidator(library.user({ n: 0 }), library.name)
      const proto = Object.prototype as Record<string, unknown>
      proto.age = 99
      let output: unknown
      try {
        output = validate({ name: 'Ada', email: 'ada@example.com' })
      } finally {
        delete proto.age
      }
      expect(output).toEqual({ name: 'Ada', email: 'ada@example.com', age: 18 })
      expect(Object.hasOwn(output as object, 'age') && (output as { age: number }).age).toBe(18)
      expectPrototypesUntouched()
    },
  )
})

describe.each(frameworks)('a 422 after a transform, through %s', (_name, express) => {
  // Each schema changes the value before the check that refuses it, so the value the library
  // quotes is not the one the client sent.
  const transformed: [string, StandardSchemaV1, unknown][] = [
    [
      'valibot trim, then email',
      v.object({ s: v.pipe(v.string(), v.trim(), v.email()) }),
      ' hunter2-secret ',
    ],
    [
      'arktype parse, then a bound',
      type({ s: type('string.numeric.parse').to('number < 5') }),
      '4111111111111111',
    ],
    [
      'arktype narrow on an object',
      type({ s: type({ a: 'string' }).narrow(() => false) }),
      { a: 'hunter2-secret' },
    ],
    [
      'valibot transform, then a bound',
      v.object({ s: v.pipe(v.string(), v.transform(Number), v.maxValue(5)) }),
      '4111111111111111',
    ],
  ]
  // A custom message that puts the value in without quotes.
  const custom: [string, StandardSchemaV1][] = [
    [
      'zod, an error function',
      z.object({ s: z.string().min(50, { error: (iss) => `bad value ${String(iss.input)}` }) }),
    ],
    [
      'valibot, a check message function',
      v.object({
        s: v.pipe(
          v.string(),
          v.check(
            () => false,
            (iss) => `bad value ${String(iss.input)}`,
          ),
        ),
      }),
    ],
    [
      'arktype, a narrow that names the value',
      type({
        s: type('string').narrow((s, ctx) => ctx.reject({ message: `bad value ${s}` })),
      }),
    ],
  ]
  it.each(custom)('%s: the value is cut out of the message', async (_what, schema) => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody().route(schema), echo)
    })
    const res = await request(app).post('/x').send({ s: 'hunter2-secret' })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(seen.bodies).toHaveLength(0)
    expect(JSON.stringify(res.body)).not.toContain('hunter2')
    expect(res.body.errors[0]).toMatchObject({ instancePath: '/s', message: 'bad value …' })
    expectPrototypesUntouched()
  })

  it.each(transformed)('%s: the value is not quoted back', async (_what, schema, s) => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody().route(schema), echo)
    })
    const res = await request(app).post('/x').send({ s })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(seen.bodies).toHaveLength(0)
    const sent = JSON.stringify(res.body)
    expect(sent).not.toContain('hunter2')
    expect(sent).not.toContain('4111')
    expect(res.body.errors[0].instancePath).toBe('/s')
    expect(res.body.errors[0].message).toMatch(/(Received|received|\(was) …\)?$/)
    expectPrototypesUntouched()
  })

  // The body holds a string; the schema parses it as JSON and refuses what is inside.
  const parsed: [string, StandardSchemaV1, string, string][] = [
    [
      'arktype string.json.parse, a syntax error',
      type({ s: 'string.json.parse' }),
      '{"password": hunter2secret}',
      's must be a JSON string (SyntaxError: …)',
    ],
    [
      'arktype, a key to remove',
      type({ s: type('string.json.parse').to({ '+': 'reject', a: 'string' }) }),
      '{"a":"x","hunter2secret":1}',
      's.… must be removed',
    ],
    [
      'zod, an unrecognized key',
      z.object({
        s: z
          .string()
          .transform((text) => JSON.parse(text) as unknown)
          .pipe(z.strictObject({ a: z.string() })),
      }),
      '{"a":"x","hunter2secret":1}',
      'Unrecognized key: "…"',
    ],
    [
      'valibot parseJson, an unknown key',
      v.object({ s: v.pipe(v.string(), v.parseJson(), v.strictObject({ a: v.string() })) }),
      '{"a":"x","hunter2secret":1}',
      'Invalid key: Expected never but received …',
    ],
    [
      'valibot parseJson, a value',
      v.object({
        s: v.pipe(
          v.string(),
          v.parseJson(),
          v.object({ pw: v.pipe(v.string(), v.regex(/^[a-z]+$/)) }),
        ),
      }),
      '{"pw":"pw\\" Hunter2secret"}',
      'Invalid format: Expected /^[a-z]+$/ but received …',
    ],
  ]
  it('a record the schema keys by values from the body: the pointer stops at the array', async () => {
    const { app } = buildApp(express, (app, echo) => {
      const byId = z.object({
        items: z
          .array(z.object({ id: z.string(), qty: z.number() }))
          .transform((items) => Object.fromEntries(items.map((item) => [item.id, item.qty])))
          .pipe(z.record(z.string(), z.number().max(10))),
      })
      app.post('/z', safeBody().route(byId), echo)
      app.post(
        '/v',
        safeBody().route(
          v.object({
            items: v.pipe(
              v.array(v.object({ id: v.string(), qty: v.number() })),
              v.transform((items) => Object.fromEntries(items.map((item) => [item.id, item.qty]))),
              v.record(v.string(), v.pipe(v.number(), v.maxValue(10))),
            ),
          }),
        ),
        echo,
      )
    })
    for (const path of ['/z', '/v']) {
      const res = await request(app)
        .post(path)
        .send({ items: [{ id: 'hunter2secret', qty: 99 }] })
      expectRefusal(res, 422, 'entity.validation.failed')
      expect(JSON.stringify(res.body)).not.toContain('hunter2')
      expect(res.body.errors[0].instancePath).toBe('/items')
    }
  })

  it('an arktype union over a parsed JSON string: no branch names its keys', async () => {
    const { app } = buildApp(express, (app, echo) => {
      const schema = type({
        s: type('string.json.parse').to(type({ '[string]': 'number' }).or('number[]')),
      })
      app.post('/x', safeBody().route(schema), echo)
    })
    const res = await request(app).post('/x').send({ s: '{"hunter2secret":"x","k":1}' })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(JSON.stringify(res.body)).not.toContain('hunter2')
    expect(res.body.errors[0].instancePath).toBe('/s')
  })

  it("an arktype union: a branch's value is masked even when it equals a count of the body's", async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody().route(type({ a: 'string' }).or({ b: 'number > 5' })), echo)
    })
    // The body has one key and b is 1: `(was 1)` is b's value, not the object's size.
    for (const b of [1, 3]) {
      const res = await request(app).post('/x').send({ b })
      expectRefusal(res, 422, 'entity.validation.failed')
      expect(res.body.errors).toEqual([
        {
          instancePath: '',
          keyword: 'union',
          message: 'a must be a string (was missing) or b must be more than 5 (was …)',
        },
      ])
    }
    expectPrototypesUntouched()
  })

  it.each(parsed)(
    '%s: neither its text nor its keys come back',
    async (_what, schema, s, message) => {
      const { app, seen } = buildApp(express, (app, echo) => {
        app.post('/x', safeBody().route(schema), echo)
      })
      const res = await request(app).post('/x').send({ s })
      expectRefusal(res, 422, 'entity.validation.failed')
      expect(seen.bodies).toHaveLength(0)
      expect(JSON.stringify(res.body).toLowerCase()).not.toContain('hunter2')
      expect(res.body.errors).toEqual([
        { instancePath: '/s', keyword: expect.any(String), message },
      ])
      expectPrototypesUntouched()
    },
  )

  it('keeps what tells the client what to change: a count, a type, the key to remove', async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.post(
        '/x',
        safeBody().route(v.strictObject({ s: v.pipe(v.string(), v.trim(), v.minLength(5)) })),
        echo,
      )
      app.post('/y', safeBody().route(type({ s: type('string.trim').to('string >= 5') })), echo)
      app.post('/z', safeBody().route(v.object({ s: v.string() })), echo)
    })
    const x = await request(app).post('/x').send({ s: '  ab   ', extra: 1 })
    expectRefusal(x, 422, 'entity.validation.failed')
    expect(x.body.errors.map((e: { message: string }) => e.message)).toEqual([
      'Invalid length: Expected >=5 but received 2',
      'Invalid key: Expected never but received "extra"',
    ])
    const y = await request(app).post('/y').send({ s: ' ab ' })
    expect(y.body.errors[0].message).toBe('s must be at least length 5 (was 2)')
    const z = await request(app).post('/z').send({ s: 4111 })
    expect(z.body.errors[0].message).toBe(
      'Invalid type: Expected string but received 4111'.replace('4111', '…'),
    )
    expectPrototypesUntouched()
  })
})

describe.each(frameworks)('an output that is a thenable, through %s', (_name, express) => {
  it.each([false, true])('is handed on as it is, never awaited (async: %s)', async (async) => {
    const { schema, output, calls } = thenableOutput(async)
    let seen: unknown
    const app = express()
    app.post('/x', safeBody().route(schema), (req, res) => {
      seen = req.body
      res.status(200).end()
    })
    const res = await request(app).post('/x').send({ a: 1 })
    expect(res.status).toBe(200)
    expect(seen).toBe(output)
    expect(calls.then).toBe(0)
  })
})

describe('an output that is a thenable, through fastify', () => {
  it.each([false, true])('is handed on as it is, never awaited (async: %s)', async (async) => {
    const { schema, output, calls } = thenableOutput(async)
    let seen: unknown
    const app = Fastify()
    await app.register(safebody)
    app.post('/x', { schema: { body: schema } }, (req, reply) => {
      seen = req.body
      return reply.send('handed on')
    })
    const res = await app.inject({ method: 'POST', url: '/x', payload: { a: 1 } })
    await app.close()
    expect(res.statusCode).toBe(200)
    expect(seen).toBe(output)
    expect(calls.then).toBe(0)
  })
})

describe.each(frameworks)('an issue at the root of the body, through %s', (_name, express) => {
  it('points at it with the empty JSON Pointer (arktype: its path is an Array subclass)', async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody().route(type('string')), echo)
    })
    const res = await sendBytes(request(app).post('/x').type('json'), '42')
    expect(res.status).toBe(422)
    expect(res.body.errors).toEqual([expect.objectContaining({ instancePath: '' })])
    expectPrototypesUntouched()
  })
})

describe.each(frameworks)('a schema that throws, through %s', (_name, express) => {
  it('is a server fault (500, not exposed), not a 422', async () => {
    const broken = z.object({ name: z.string() }).refine(() => {
      throw new Error('the check itself broke')
    })
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody().route(broken), echo)
    })
    const res = await request(app).post('/x').send({ name: 'a' })
    // problemDetails() leaves it to Express's own handler, as any server fault.
    expect(res.status).toBe(500)
    expect(res.headers['content-type']).not.toMatch(/problem/)
    expect(seen.errors).toHaveLength(1)
    expect(isBodyError(seen.errors[0])).toBe(false)
    expect(seen.bodies).toEqual([])
  })

  it("parsing in a transform: JSON.parse throws (500); each library's own parse step is a 422", async () => {
    const parses = {
      '/throws': z.object({ s: z.string().transform((text) => JSON.parse(text) as unknown) }),
      '/zod': z.object({
        s: z.string().transform((text, ctx) => {
          try {
            return JSON.parse(text) as unknown
          } catch {
            ctx.addIssue({ code: 'custom', message: 'must be JSON text' })
            return z.NEVER
          }
        }),
      }),
      '/valibot': v.object({ s: v.pipe(v.string(), v.parseJson()) }),
      '/arktype': type({ s: 'string.json.parse' }),
    }
    const { app, seen } = buildApp(express, (app, echo) => {
      for (const [path, schema] of Object.entries(parses)) {
        app.post(path, safeBody().route(schema), echo)
      }
    })
    const bad = { s: '{"password": hunter2secret' }
    const thrown = await request(app).post('/throws').send(bad)
    expect(thrown.status).toBe(500)
    expect(isBodyError(seen.errors[0])).toBe(false)
    for (const path of ['/zod', '/valibot', '/arktype']) {
      const res = await request(app).post(path).send(bad)
      expectRefusal(res, 422, 'entity.validation.failed')
      expect(res.body.errors[0].instancePath).toBe('/s')
      expect(JSON.stringify(res.body)).not.toContain('hunter2')
      const good = await request(app).post(path).send({ s: '{"a":1}' })
      expect(good.status).toBe(200)
      expect(good.body).toEqual({ body: { s: { a: 1 } } })
    }
    expectPrototypesUntouched()
  })
})

/** A Standard Schema whose `validate` does what it is given: the contract broken in some way. */
function breaking(validate: () => unknown): StandardSchemaV1<unknown, unknown> {
  return {
    '~standard': {
      version: 1,
      vendor: 'hand',
      validate: validate as StandardSchemaV1['~standard']['validate'],
    },
  }
}

// Each a validator that broke the spec's contract: none may let the request through.
const brokenValidators: Array<[string, () => unknown]> = [
  [
    'throws undefined',
    () => {
      throw undefined
    },
  ],
  [
    'throws null',
    () => {
      throw null
    },
  ],
  ['rejects with nothing', () => Promise.reject(undefined)],
  ['returns a number', () => 42],
  ['returns null', () => null],
  ['resolves to nothing', () => Promise.resolve(undefined)],
  ['returns issues that are not an array', () => ({ issues: 'wrong' })],
  ['returns issues shaped like an array', () => ({ issues: { length: 1e9 } })],
  ['returns an empty object (no value)', () => ({})],
  ['returns an array', () => []],
  ['returns an issue that is not an object', () => ({ issues: [5] })],
  // Shaped as a client's fault, but thrown by the validator: its fault all the same.
  [
    'throws an http-errors 400',
    () => {
      throw createError(400, 'the lookup in a transform failed')
    },
  ],
  ['rejects with an http-errors 404', () => Promise.reject(createError(404))],
  [
    "throws an object shaped as safebody's own refusal",
    () => {
      throw Object.assign(new Error('x'), { type: 'entity.validation.failed', status: 422 })
    },
  ],
  // Reading the result runs the validator's code too: its getters' throws are its fault.
  [
    "answers with an issues getter that throws safebody's own refusal",
    () => ({
      get issues(): never {
        throw Object.assign(new Error('x'), { type: 'entity.validation.failed', status: 422 })
      },
    }),
  ],
  [
    'answers with a then getter that throws an http-errors 400',
    () => ({
      get then(): never {
        throw createError(400)
      },
    }),
  ],
  [
    'answers with an issue whose message throws on reading',
    () => ({
      issues: [
        {
          get message(): never {
            throw createError(400)
          },
        },
      ],
    }),
  ],
]

describe.each(frameworks)('a schema that breaks its contract, through %s', (_name, express) => {
  it.each(brokenValidators)(
    '%s: a server fault (500, not exposed), the handler never runs',
    async (_what, validate) => {
      const { app, seen } = buildApp(express, (app, echo) => {
        app.post('/x', safeBody().route(breaking(validate)), echo)
      })
      const res = await request(app).post('/x').send({ name: 'a' })
      expect(res.status).toBe(500)
      expect(res.headers['content-type']).not.toMatch(/problem/)
      expect(seen.bodies).toEqual([])
      expect(seen.errors).toHaveLength(1)
      expect(isBodyError(seen.errors[0])).toBe(false)
      expect((seen.errors[0] as { expose?: unknown }).expose).toBe(false)
      expectPrototypesUntouched()
    },
  )

  it.each(brokenValidators)(
    'in report mode too (%s): the validator reported nothing it could be trusted with',
    async (_what, validate) => {
      const { app, seen } = buildApp(express, (app, echo) => {
        app.use(safeBody({ routes: { 'POST /x': breaking(validate) }, mode: 'report' }))
        app.post('/x', echo)
      })
      const res = await request(app).post('/x').send({ name: 'a' })
      expect(res.status).toBe(500)
      expect(seen.bodies).toEqual([])
    },
  )
})

describe('a schema that breaks its contract, through safebody/fastify', () => {
  it.each(brokenValidators)('%s: a 500, the handler never runs', async (_what, validate) => {
    const app = Fastify()
    await app.register(safebody, { routes: { 'POST /x': breaking(validate) } })
    const ran: unknown[] = []
    app.post('/x', async (req) => {
      ran.push(req.body)
      return 'handed on'
    })
    const res = await app.inject({ method: 'POST', url: '/x', payload: { name: 'a' } })
    expect(res.statusCode).toBe(500)
    expect(ran).toEqual([])
    expectPrototypesUntouched()
    await app.close()
  })
})

describe('a schema that breaks its contract, through safebody/node', () => {
  it.each(brokenValidators)(
    '%s: the read rejects with a 500, never resolves',
    async (_what, validate) => {
      const read = createBodyReader({ 'POST /x': breaking(validate) })
      const { createServer } = await import('node:http')
      const resolved: unknown[] = []
      const server = createServer((req, res) => {
        read(req, res).then(
          (body) => {
            resolved.push(body)
            res.end('handed on')
          },
          (err: { status?: number; expose?: boolean }) => {
            res.statusCode = err.status ?? 0
            res.end(String(err.expose))
          },
        )
      })
      const res = await request(server).post('/x').send({ name: 'a' })
      expect([res.status, res.text]).toEqual([500, 'false'])
      expect(resolved).toEqual([])
      expectPrototypesUntouched()
    },
  )
})

/** POST `body` in two halves, `pause` ms apart; resolves the status and the problem type. */
function slowPost(port: number, body: string, pause: number) {
  return new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
    const req = httpRequest(
      {
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/x',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: (JSON.parse(text) as { type?: string }).type,
          }),
        )
      },
    )
    req.on('error', reject)
    const half = Math.floor(body.length / 2)
    req.write(body.slice(0, half))
    setTimeout(() => req.end(body.slice(half)), pause)
  })
}

describe.each(frameworks)('the timeout of an async schema, through %s', (_name, express) => {
  it('counts from the start of the read: a slow body leaves the schema less time', async () => {
    // The check takes 250 ms; the timeout is 400 ms.
    const slowCheck = z
      .object({ name: z.string() })
      .refine(() => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 250)))
    const { app } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody({ timeout: 400 }).route(slowCheck), echo)
    })
    const { server, port } = await listen(app)
    try {
      const body = JSON.stringify({ name: 'ada' })
      expect(await slowPost(port, body, 0)).toEqual({ status: 200, type: undefined })
      // 350 ms of reading plus 250 ms of checking outlasts 400 ms.
      expect(await slowPost(port, body, 350)).toEqual({ status: 408, type: 'request.timeout' })
      expectPrototypesUntouched()
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})

describe('beside the other adapters', () => {
  const user = z.object({ name: z.string().trim(), tags: z.array(z.string()).default([]) })

  it('safebody/node resolves the output of an async schema, and rejects with 422', async () => {
    const read = createBodyReader({
      'POST /users': user.refine(async (u) => u.name !== 'taken', { message: 'taken' }),
    })
    const { createServer } = await import('node:http')
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      read(req, res).then(
        (body) => res.end(JSON.stringify({ body })),
        (err: { status: number; type: string }) => {
          res.statusCode = err.status
          res.end(JSON.stringify({ type: err.type }))
        },
      )
    })
    const ok = await request(server).post('/users').send({ name: ' ada ' })
    expect(ok.body).toEqual({ body: { name: 'ada', tags: [] } })
    const taken = await request(server).post('/users').send({ name: 'taken' })
    expect([taken.status, taken.body.type]).toEqual([422, 'entity.validation.failed'])
    expectPrototypesUntouched()
  })

  it("fastify takes a zod schema as a route's schema.body", async () => {
    const app = Fastify()
    await app.register(safebody)
    app.setErrorHandler(problemDetails())
    app.post('/users', { schema: { body: user } }, async (req) => ({ body: req.body }))
    await app.ready()
    try {
      const ok = await app.inject({ method: 'POST', url: '/users', payload: { name: ' ada ' } })
      expect(ok.json()).toEqual({ body: { name: 'ada', tags: [] } })
      const bad = await app.inject({ method: 'POST', url: '/users', payload: { name: 3 } })
      expect(bad.statusCode).toBe(422)
      expect(bad.json()).toMatchObject({
        type: 'entity.validation.failed',
        errors: [{ instancePath: '/name', keyword: 'invalid_type' }],
      })
      const polluted = await app.inject({
        method: 'POST',
        url: '/users',
        headers: { 'content-type': 'application/json' },
        payload: '{"name":"a","__proto__":{"x":1}}',
      })
      expect([polluted.statusCode, polluted.json().type]).toEqual([400, 'entity.forbidden.key'])
      expectPrototypesUntouched()
    } finally {
      await app.close()
    }
  })

  it.each(frameworks)('binds a zod route beside an OpenAPI document (%s)', async (_n, express) => {
    const openapi = fileURLToPath(new URL('../fixtures/openapi/petstore-3.1.json', import.meta.url))
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ openapi, routes: { 'POST /users': user } }))
      app.post('/pets', echo)
      app.post('/users', echo)
    })
    expect((await request(app).post('/pets').send({ name: 'rex' })).status).toBe(200)
    expect((await request(app).post('/users').send({ name: ' ada ' })).status).toBe(200)
    expect(seen.bodies).toEqual([{ name: 'rex' }, { name: 'ada', tags: [] }])
    expectRefusal(await request(app).post('/users').send({}), 422, 'entity.validation.failed')
  })
})
