import { describe, expect, it } from 'vitest'
import { expectRefusal, frameworks } from '../helpers/app.js'
import { aliasBomb, formatApp, post, smallLimits } from './helpers.js'

const y = 'application/yaml'

describe.each(frameworks)('YAML on %s', (_name, express) => {
  const build = (extra: object = {}) =>
    formatApp(express, {
      routes: { 'POST /any': { schema: true, ...smallLimits, ...extra } },
    })
  const accepts = async (text: string, expected: unknown, extra: object = {}) => {
    const { app, seen } = build(extra)
    const res = await post(app, '/any', y, text)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(seen.bodies).toEqual([expected])
  }
  const refuses = async (text: string, status: number, type: string, extra: object = {}) => {
    const { app, seen } = build(extra)
    expectRefusal(await post(app, '/any', y, text), status, type, seen)
  }

  it('decodes the core schema into what JSON.parse would give', async () => {
    await accepts(
      'name: Ada\nage: 36\nratio: 0.5\nok: true\nnone: ~\nlist: [1, two]\nhex: 0x1F\n',
      {
        name: 'Ada',
        age: 36,
        ratio: 0.5,
        ok: true,
        none: null,
        list: [1, 'two'],
        hex: 31,
      },
    )
  })

  it.each([
    'application/yaml',
    'application/x-yaml',
    'text/yaml',
    'text/x-yaml',
    'application/vnd.x+yaml',
  ])('answers to %s', async (type) => {
    const { app } = build()
    expect((await post(app, '/any', type, 'a: 1')).status).toBe(200)
  })

  it('refuses a charset other than UTF-8, and invalid UTF-8', async () => {
    const { app, seen } = build()
    expectRefusal(
      await post(app, '/any', 'text/yaml; charset=latin1', 'a: 1'),
      415,
      'charset.unsupported',
      seen,
    )
    expectRefusal(
      await post(app, '/any', y, Buffer.from([0x61, 0x3a, 0x20, 0xff])),
      400,
      'entity.utf8.invalid',
      seen,
    )
  })

  it('keeps YAML 1.1 lookalikes as strings (core schema): yes, no, on, 2024-01-01', async () => {
    await accepts('a: yes\nb: off\nc: 2024-01-01\nd: 2024-01-01T10:00:00Z\n', {
      a: 'yes',
      b: 'off',
      c: '2024-01-01',
      d: '2024-01-01T10:00:00Z',
    })
  })

  it('stringifies scalar keys as a JSON object holds them', async () => {
    await accepts('1: a\ntrue: b\nnull: c\n', { '1': 'a', true: 'b', null: 'c' })
  })

  it('maps !!binary to base64 text and !!timestamp to ISO 8601 text', async () => {
    await accepts('bin: !!binary "aGVs\n  bG8="\nwhen: !!timestamp 2024-02-29 12:00:00 +01:00\n', {
      bin: 'aGVsbG8=',
      when: '2024-02-29T11:00:00.000Z',
    })
  })

  it('refuses integer literals a number cannot hold exactly rather than rounding them', async () => {
    await refuses('id: 12345678901234567890', 400, 'entity.type.unmapped')
    await refuses('id: 0x20000000000001', 400, 'entity.type.unmapped')
    await refuses('id: -9007199254740993', 400, 'entity.type.unmapped')
    await accepts('id: 9007199254740991', { id: 9007199254740991 })
    // JSON.stringify and js-yaml write large whole doubles as their shortest digits: kept.
    await accepts('id: 100000000000000000000', { id: 1e20 })
    await accepts('x: -39279824684746650', { x: -39279824684746650 })
    await accepts('big: 1.5e300', { big: 1.5e300 })
  })

  it("passes integers beyond 2^53 as decimal strings with largeIntegers: 'string'", async () => {
    await accepts(
      'id: 12345678901234567890\nh: 0x20000000000000',
      { id: '12345678901234567890', h: '9007199254740992' },
      {
        largeIntegers: 'string',
      },
    )
  })

  // js-yaml hands an integer literal beyond the largest double on as the string it is
  // written as: it would then pass a `type: string` schema.
  it.each(['refuse', 'string'])(
    'refuses an integer beyond the largest double in any spelling (largeIntegers %s)',
    async (largeIntegers) => {
      for (const text of [
        `id: 1${'0'.repeat(400)}`,
        `id: 0x1${'0'.repeat(256)}`,
        `id: 0o1${'0'.repeat(342)}`,
        `id: !!int -0x1${'0'.repeat(256)}`,
        `id: !!int 0b1${'0'.repeat(1024)}`,
      ]) {
        await refuses(text, 400, 'entity.type.unmapped', { largeIntegers })
      }
      // Quoted, or not an integer form of the core schema (a sign before 0x): a string.
      await accepts(`id: "1${'0'.repeat(180)}"\nh: -0x10`, {
        id: `1${'0'.repeat(180)}`,
        h: '-0x10',
      })
    },
  )

  it('refuses .nan and .inf', async () => {
    await refuses('x: .nan', 400, 'entity.type.unmapped')
    await refuses('x: [-.inf]', 400, 'entity.type.unmapped')
  })

  it.each([
    ['!!set', 'x: !!set {a, b}'],
    ['!!omap', 'x: !!omap [a: 1, b: 2]'],
    ['!!pairs', 'x: !!pairs [a: 1]'],
    ['!!js/function', 'x: !!js/function "function () { return 1 }"'],
    ['!!js/regexp', 'x: !!js/regexp /a+/'],
    ['!!js/undefined', 'x: !!js/undefined ""'],
    ['!!python/object', 'x: !!python/object:os.system {}'],
    ['a local tag', 'x: !custom value'],
    ['a verbatim tag', 'x: !<tag:example.com,2024:thing> value'],
    ['a tag behind a %TAG handle', '%TAG !e! tag:yaml.org,2002:js/\n---\nx: !e!function "f"'],
  ])('refuses %s', async (_tag, text) => {
    await refuses(text, 400, 'entity.type.unmapped')
  })

  it('refuses more than one document, and none', async () => {
    await refuses('a: 1\n---\nb: 2\n', 400, 'entity.parse.failed')
    await refuses('# only a comment\n', 400, 'entity.parse.failed')
  })

  it('refuses duplicate keys rather than keeping one silently', async () => {
    await refuses('a: 1\na: 2\n', 400, 'entity.parse.failed')
  })

  it('refuses complex (collection) keys', async () => {
    await refuses('? [a, b]\n: 1\n', 400, 'entity.parse.failed')
  })

  it('allows merge keys', async () => {
    await accepts('base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n', {
      base: { x: 1, y: 2 },
      use: { x: 1, y: 3 },
    })
  })

  describe('prototype pollution', () => {
    it.each([
      ['a plain key', '__proto__: {polluted: 1}'],
      ['a quoted key', '"__proto__": {polluted: 1}'],
      ['an escaped key', '"\\x5f_proto__": {polluted: 1}'],
      ['a nested key', 'a: [{__proto__: {polluted: 1}}]'],
      ['a merge key', 'src: &s {__proto__: {polluted: 1}}\ndst: {<<: *s}'],
      ['a merge of a list', 'a: &a {x: 1}\nb: &b {"__proto__": {polluted: 1}}\nc: {<<: [*a, *b]}'],
      ['an aliased key', 'k: &k __proto__\nobj: {*k : {polluted: 1}}'],
      ['constructor.prototype', 'constructor: {prototype: {polluted: 1}}'],
      [
        'constructor.prototype via merge',
        'p: &p {prototype: {polluted: 1}}\nconstructor: {<<: *p}',
      ],
      ['constructor.prototype via alias', 'p: &p {prototype: {x: 1}}\nq: {constructor: *p}'],
    ])('refuses __proto__ / constructor.prototype as %s', async (_how, text) => {
      await refuses(text, 400, 'entity.forbidden.key')
    })
  })

  describe('structure bombs', () => {
    it('measures an alias bomb (billion laughs) at its expanded size', async () => {
      const bomb = aliasBomb(9, 'x')
      await refuses(bomb, 400, 'entity.too.many.nodes')
      // The same at default limits: 10^9 values are never built, the walk stops at the limit.
      await refuses(bomb, 400, 'entity.too.many.nodes', {
        maxNodes: 100_000,
        maxDepth: 64,
      })
    })

    it('refuses a self-referencing alias instead of looping', async () => {
      await refuses('a: &a [*a]', 400, 'entity.too.deep')
      await refuses('a: &a {self: *a}', 400, 'entity.too.deep')
    })

    it('refuses deep nesting in the parser, before anything is built', async () => {
      await refuses(`${'['.repeat(17)}${']'.repeat(17)}`, 400, 'entity.too.deep')
      await refuses(`${'['.repeat(50_000)}${']'.repeat(50_000)}`, 400, 'entity.too.deep')
      await accepts(
        `${'['.repeat(16)}${']'.repeat(16)}`,
        JSON.parse(`${'['.repeat(16)}${']'.repeat(16)}`),
      )
    })

    it('caps merge-key work', async () => {
      const base = `b: &b {${Array.from({ length: 40 }, (_, i) => `k${i}: ${i}`).join(', ')}}`
      const uses = Array.from({ length: 40 }, (_, i) => `u${i}: {<<: *b}`).join('\n')
      await refuses(`${base}\n${uses}`, 400, 'entity.too.many.nodes')
    })

    it('refuses too many keys and too long strings', async () => {
      await refuses(
        Array.from({ length: 60 }, (_, i) => `k${i}: ${i}`).join('\n'),
        400,
        'entity.too.many.keys',
      )
      await refuses(`s: ${'x'.repeat(201)}`, 400, 'entity.string.too.long')
    })
  })

  it('refuses malformed YAML without echoing it', async () => {
    const { app, seen } = build()
    const res = await post(app, '/any', y, 'a: [1, 2\nsecret: "unterminated')
    expectRefusal(res, 400, 'entity.parse.failed', seen)
    expect(JSON.stringify(res.body)).not.toContain('secret')
  })
})
