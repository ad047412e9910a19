import { checkSync } from 'recheck'
import { RE2JS } from 're2js'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { type RegExpEngine, type SafeBodyOptions, safeBody } from '../../src/index.js'
import { buildApp, expectPrototypesUntouched, expectRefusal, frameworks } from '../helpers/app.js'

// Schema patterns are compiled by ajv into JavaScript RegExps, which backtrack: a pattern
// with catastrophic backtracking lets one short string hold the event loop. safeBody()
// refuses such patterns at start-up, unless they run under a linear-time engine (RE2) or the
// risk is accepted, by name or wholesale. The default analyser is redos-detector (refuses any
// pattern that can backtrack); ajv.patternChecker swaps in recheck (precise, an optional peer).

// RE2 in pure JavaScript (re2js) as an ajv.regExp engine: the shape the native re2 has too.
const RE2: RegExpEngine = (source, flags) => {
  const re = RE2JS.compile(
    RE2JS.translateRegExp(source),
    (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) |
      (flags.includes('s') ? RE2JS.DOTALL : 0) |
      (flags.includes('m') ? RE2JS.MULTILINE : 0),
  )
  return { test: (input) => re.test(input) }
}

const exponential = '^(a+)+$'
const alternation = '^(\\w|\\d)+$' // exponential too, and easy to miss
const quadratic = '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' // a common e-mail check: square time

const withPattern = (pattern: string) => ({
  type: 'object',
  properties: { name: { type: 'string', pattern } },
})

describe('unsafe patterns are refused at start-up, naming the schema and the pattern', () => {
  const start =
    (pattern: string, ajv: SafeBodyOptions['ajv'] = {}) =>
    () =>
      safeBody({ ajv, schemas: { user: withPattern(pattern) }, routes: { 'POST /users': 'user' } })

  it.each([
    [exponential, /an input can make it backtrack/],
    // redos-detector cannot settle this one within the budget: refused as unproven.
    [alternation, /could not show within 2000 ms that it cannot backtrack/],
    [quadratic, /an input can make it backtrack/],
  ])('by default (redos-detector): pattern %s', (pattern, why) => {
    expect(start(pattern)).toThrow(`safebody: schema "user" does not compile: pattern "${pattern}"`)
    expect(start(pattern)).toThrow(why)
    expect(start(pattern)).toThrow(
      "check it precisely (ajv: { patternChecker: checkSync } from 'recheck')",
    )
    expect(start(pattern)).toThrow(/ajv: \{ regExp \}/)
    expect(start(pattern)).toThrow(
      `ajv: { unsafePatterns: [${JSON.stringify(pattern)}] } or 'allow'`,
    )
    expectPrototypesUntouched()
  })

  it.each([
    [exponential, /exponentially/],
    [alternation, /exponentially/],
    [quadratic, /with the square of the string's length/],
  ])(
    'with ajv.patternChecker (recheck): pattern %s, its growth and an attack string',
    (pattern, growth) => {
      const checked = start(pattern, { patternChecker: checkSync })
      expect(checked).toThrow(`safebody: schema "user" does not compile: pattern "${pattern}"`)
      expect(checked).toThrow(growth)
      expect(checked).toThrow(/an attack string: /)
      expect(checked).not.toThrow(/patternChecker/)
      expectPrototypesUntouched()
    },
  )

  it('in patternProperties, nested schemas and inline route schemas', () => {
    const nested = {
      type: 'object',
      properties: {
        tags: {
          type: 'array',
          items: { type: 'object', patternProperties: { [alternation]: {} } },
        },
      },
    }
    expect(() => safeBody({ schemas: { order: nested } })).toThrow(
      `schema "order" does not compile: pattern "${alternation}"`,
    )
    expect(() => safeBody({ routes: { 'POST /x': withPattern(exponential) } })).toThrow(
      /schema "inline schema" does not compile: pattern "\^\(a\+\)\+\$".*\(bound to route "POST \/x"\)/s,
    )
  })

  it('in ajv.formats given as a RegExp, a string or a definition’s validate', () => {
    for (const format of [/^(a|a)*$/, '^(a|a)*$', { type: 'string', validate: /^(a|a)*$/ }]) {
      expect(() =>
        safeBody({
          ajv: { formats: { sku: format as RegExp } },
          schemas: { item: { type: 'string', format: 'sku' } },
        }),
      ).toThrow('safebody: ajv.formats.sku "^(a|a)*$": redos-detector could not show')
    }
  })

  it('lets common linear patterns through, with either analyser', () => {
    const safe = [
      '^[a-z0-9]+(-[a-z0-9]+)*$',
      '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
      '^\\d{4}-\\d{2}-\\d{2}$',
      '^(\\+\\d{1,3})?\\d{6,14}$',
      '^\\p{L}+$',
    ]
    const schemas = Object.fromEntries(safe.map((pattern, i) => [`s${i}`, withPattern(pattern)]))
    expect(() => safeBody({ schemas })).not.toThrow()
    expect(() => safeBody({ schemas, ajv: { patternChecker: checkSync } })).not.toThrow()
  })

  it('a linear pattern that can backtrack: refused by default, accepted by recheck', () => {
    const domain = '^([a-z]+\\.)+[a-z]+$'
    expect(start(domain)).toThrow(`pattern "${domain}": an input can make it backtrack`)
    expect(start(domain, { patternChecker: checkSync })).not.toThrow()
  })
})

describe.each(frameworks)(
  'accepting the risk, or running patterns under RE2 (%s)',
  (_name, express) => {
    const app = (options: SafeBodyOptions) =>
      buildApp(express, (app, echo) => {
        app.use(safeBody(options))
        app.post(/.*/, echo)
      })

    it('unsafePatterns lists the patterns accepted; any other is still refused', async () => {
      const { app: accepted } = app({
        ajv: { unsafePatterns: [exponential] },
        routes: { 'POST /users': withPattern(exponential) },
      })
      expect((await request(accepted).post('/users').send({ name: 'aaa' })).status).toBe(200)
      expect(() =>
        safeBody({
          ajv: { unsafePatterns: [exponential] },
          routes: { 'POST /users': withPattern(quadratic) },
        }),
      ).toThrow(`pattern "${quadratic}"`)
    })

    it("unsafePatterns: 'allow' accepts every pattern, unanalysed", async () => {
      const { app: allowed } = app({
        ajv: { unsafePatterns: 'allow' },
        routes: { 'POST /a': withPattern(exponential), 'POST /b': withPattern(quadratic) },
      })
      expect((await request(allowed).post('/b').send({ name: 'me@example.com' })).status).toBe(200)
    })

    it('regExp: RE2 (re2js) matches a hostile string in linear time: 422 at once, not a blocked loop', async () => {
      const { app: linear, seen } = app({
        ajv: { regExp: RE2 },
        routes: { 'POST /users': { schema: withPattern(exponential), required: true } },
      })
      expect((await request(linear).post('/users').send({ name: 'aaaa' })).status).toBe(200)
      seen.bodies.length = 0
      // Under JavaScript's RegExp this string takes longer than the universe has left.
      const hostile = `${'a'.repeat(40_000)}!`
      const started = Date.now()
      const res = await request(linear).post('/users').send({ name: hostile })
      expect(Date.now() - started).toBeLessThan(1000)
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect(res.body.errors).toMatchObject([{ instancePath: '/name', keyword: 'pattern' }])
      seen.bodies.length = 0
      expectRefusal(
        await request(linear).post('/users').send({ name: 'x' }),
        422,
        'entity.validation.failed',
        seen,
      )
    })

    it('an engine whose objects all print alike still runs each pattern as written', async () => {
      // ajv keys compiled patterns by String(); re2js's objects print as [object Object].
      expect(String(RE2('^a$', 'u'))).toBe('[object Object]')
      const { app: linear, seen } = app({
        ajv: { regExp: RE2 },
        routes: {
          'POST /a': { type: 'string', pattern: '^a+$' },
          'POST /b': { type: 'string', pattern: '^b+$' },
        },
      })
      expect((await request(linear).post('/a').send('"aaa"').type('json')).status).toBe(200)
      expect((await request(linear).post('/b').send('"bbb"').type('json')).status).toBe(200)
      seen.bodies.length = 0
      expectRefusal(
        await request(linear).post('/b').send('"aaa"').type('json'),
        422,
        'entity.validation.failed',
        seen,
      )
    })

    it('regExp: RE2 (re2js) runs regular-expression formats too', async () => {
      const { app: linear, seen } = app({
        ajv: {
          regExp: RE2,
          formats: { sku: /^(a|a)*$/, code: { type: 'string', validate: '^[A-Z]{3}$' } },
        },
        routes: {
          'POST /sku': { type: 'string', format: 'sku' },
          'POST /code': { type: 'string', format: 'code' },
        },
      })
      expect((await request(linear).post('/sku').send('"aaaa"').type('json')).status).toBe(200)
      seen.bodies.length = 0
      const started = Date.now()
      const res = await request(linear)
        .post('/sku')
        .send(`"${'a'.repeat(40_000)}!"`)
        .type('json')
      expect(Date.now() - started).toBeLessThan(1000)
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect((await request(linear).post('/code').send('"ABC"').type('json')).status).toBe(200)
      seen.bodies.length = 0
      expectRefusal(
        await request(linear).post('/code').send('"abc"').type('json'),
        422,
        'entity.validation.failed',
        seen,
      )
    })
  },
)

describe('pattern options at start-up', () => {
  it('refuses a pattern RE2 cannot run (lookaround, backreferences), naming it', () => {
    expect(() =>
      safeBody({ ajv: { regExp: RE2 }, schemas: { user: withPattern('^(?=a)a$') } }),
    ).toThrow('schema "user" does not compile: pattern "^(?=a)a$" is not supported by ajv.regExp')
  })

  it.each([
    [{ unsafePatterns: 'maybe' }, /unsafePatterns must be 'refuse', 'allow' or a list/],
    [{ unsafePatterns: [1] }, /unsafePatterns must be 'refuse', 'allow' or a list/],
    [{ regExp: 're2' }, /ajv.regExp must be a RegExp-like constructor/],
    [{ patternChecker: 'recheck' }, /ajv.patternChecker must be recheck's checkSync/],
    [{ regExp: RE2, unsafePatterns: 'allow' }, /give it or ajv.unsafePatterns, not both/],
  ])('refuses %o', (ajv, message) => {
    expect(() => safeBody({ ajv: ajv as never, schemas: { user: withPattern('^a$') } })).toThrow(
      message,
    )
  })
})
