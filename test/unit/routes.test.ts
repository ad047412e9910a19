import { describe, expect, it } from 'vitest'
import { routeTable, routingOptions } from '../../src/core/routes.js'

describe('routeTable', () => {
  const table = routeTable([
    ['POST /users', 'create'],
    ['PUT /users/:id', 'replace'],
    ['patch /files/*path', 'patch'],
    ['POST /a{/:optional}', 'optional'],
  ])

  it('matches like Express: methods, params, case, trailing slash', () => {
    expect(table.find('POST', '/users')).toBe('create')
    expect(table.find('POST', '/Users/')).toBe('create')
    expect(table.find('PUT', '/users/42')).toBe('replace')
    expect(table.find('PUT', '/users/42/')).toBe('replace')
    expect(table.find('PATCH', '/files/a/b/c')).toBe('patch')
    expect(table.find('POST', '/a')).toBe('optional')
    expect(table.find('POST', '/a/b')).toBe('optional')
  })

  it('finds nothing for other methods or paths', () => {
    expect(table.find('GET', '/users')).toBeUndefined()
    expect(table.find('PUT', '/users')).toBeUndefined()
    expect(table.find('PUT', '/users/42/x')).toBeUndefined()
    expect(table.find('POST', '/users/x')).toBeUndefined()
    expect(table.find('POST', '/us%65rs')).toBeUndefined()
  })

  it("holds a HEAD to its path's GET binding, whatever a HEAD key says", () => {
    const gets = routeTable<string | null>([
      ['GET /feed', 'feed'],
      ['GET /items/:id', 'item'],
      ['HEAD /items/:id', 'item head'],
      ['HEAD /own', 'own head'],
      ['GET /own', 'own get'],
      ['HEAD /only', 'only head'],
      ['GET /none', null],
      ['HEAD /none', 'none head'],
    ])
    expect(gets.find('HEAD', '/feed')).toBe('feed')
    expect(gets.find('HEAD', '/Feed/')).toBe('feed')
    // Hono and fastify run the GET handler for a HEAD whatever else is registered.
    expect(gets.find('HEAD', '/items/1')).toBe('item')
    expect(gets.find('HEAD', '/own')).toBe('own get')
    // An entry with no binding (an OpenAPI operation without requestBody) is still GET's.
    expect(gets.find('HEAD', '/none')).toBeNull()
    // A HEAD key binds a path that has no GET binding.
    expect(gets.find('HEAD', '/only')).toBe('only head')
    expect(gets.find('HEAD', '/other')).toBeUndefined()
    // Only HEAD falls back, and only to GET.
    expect(table.find('HEAD', '/users')).toBeUndefined()
    expect(gets.find('POST', '/feed')).toBeUndefined()
    expect(gets.find('OPTIONS', '/feed')).toBeUndefined()
  })

  it('matches a method sent in lower or mixed case as its upper-case key (HTTP/2 sends it as is)', () => {
    expect(table.find('post', '/users')).toBe('create')
    expect(table.find('Post', '/users')).toBe('create')
    expect(table.find('put', '/users/42')).toBe('replace')
    const gets = routeTable([['GET /feed', 'feed']])
    expect(gets.find('head', '/feed')).toBe('feed')
    expect(gets.find('get', '/feed')).toBe('feed')
    expect(gets.find('delete', '/feed')).toBeUndefined()
  })

  it('throws at start-up on a malformed key, a bad path or a duplicate', () => {
    expect(() => routeTable([['/users', 1]])).toThrow(/route "\/users" must be a method and a path/)
    expect(() => routeTable([['POST users', 1]])).toThrow(/must be a method and a path/)
    expect(() => routeTable([['POST /a/:', 1]])).toThrow(/not a valid path/)
    // The message names the first key and the routing option that made the two alike.
    expect(() =>
      routeTable([
        ['POST /a', 1],
        ['post /A/', 2],
      ]),
    ).toThrow(
      'safebody: route "post /A/" is bound twice: "POST /a" matches the same paths' +
        ' (routing.strict is false: a trailing slash is not told apart;' +
        ' routing.caseSensitive is false: case is not told apart;' +
        ' if your router tells them apart, say so in `routing`)',
    )
    expect(() =>
      routeTable([
        ['POST /pets', 1],
        ['POST /pets/', 2],
      ]),
    ).toThrow(
      /"POST \/pets" matches the same paths \(routing.strict is false: a trailing slash is not told apart; if/,
    )
    // Two patterns that match the same paths: only the first could ever be found.
    expect(() =>
      routeTable([
        ['POST /users/:id', 1],
        ['POST /users/:userId', 2],
      ]),
    ).toThrow(
      /^safebody: route "POST \/users\/:userId" is bound twice: "POST \/users\/:id" matches the same paths$/,
    )
    expect(() =>
      routeTable([
        ['POST /users/:id', 1],
        ['POST /Users/:userId/', 2],
      ]),
    ).toThrow(/route "POST \/Users\/:userId\/" is bound twice/)
    // Told apart, they are two routes.
    const strict = { caseSensitive: true, strict: true }
    const apart = routeTable(
      [
        ['POST /pets', 1],
        ['POST /pets/', 2],
        ['POST /Pets', 3],
      ],
      strict,
    )
    expect([
      apart.find('POST', '/pets'),
      apart.find('POST', '/pets/'),
      apart.find('POST', '/Pets'),
    ]).toEqual([1, 2, 3])
  })

  it.each(['/search?', '/a+b', '/a)b', '/a(b', '/a[b]', '/a!b', '/a}b'])(
    'throws at start-up on a static key with a character Express 5 reserves: %s',
    (path) => {
      // Express 4 habits (`/ab?cd`, `/a+`) would otherwise be a key no path reaches.
      expect(() => routeTable([[`POST ${path}`, 1]])).toThrow(/not a valid path/)
    },
  )

  it('reads an escaped character in a key as Express 5 does', () => {
    const escaped = routeTable([
      ['POST /a\\b', 'ab'],
      ['POST /time\\:now', 'colon'],
    ])
    expect(escaped.find('POST', '/ab')).toBe('ab')
    expect(escaped.find('POST', '/a\\b')).toBeUndefined()
    expect(escaped.find('POST', '/time:now')).toBe('colon')
  })

  it('compares case and trailing slashes as the routing options say', () => {
    const entries = [
      ['POST /users', 'users'],
      ['POST /users/:id', 'user'],
    ] as const
    const strict = routeTable(entries, routingOptions({ caseSensitive: true, strict: true }))
    expect(strict.find('POST', '/users')).toBe('users')
    expect(strict.find('POST', '/Users')).toBeUndefined()
    expect(strict.find('POST', '/users/')).toBeUndefined()
    expect(strict.find('POST', '/users/ME')).toBe('user')
    expect(strict.find('POST', '/USERS/7')).toBeUndefined()
    expect(strict.find('POST', '/users/7/')).toBeUndefined()
    const slashes = routeTable(entries, routingOptions({ strict: true }))
    expect(slashes.find('POST', '/USERS')).toBe('users')
    expect(slashes.find('POST', '/users/')).toBeUndefined()
    const cases = routeTable(entries, routingOptions({ caseSensitive: true }))
    expect(cases.find('POST', '/users/')).toBe('users')
    expect(cases.find('POST', '/Users')).toBeUndefined()
  })

  it('folds case as a case-insensitive RegExp does, never a character beyond ASCII into ASCII', () => {
    const hooks = routeTable([
      ['POST /hooks', 'hooks'],
      ['POST /café', 'cafe'],
      ['POST /x/:id', 'x'],
    ])
    // The Kelvin sign lower-cases to "k"; path-to-regexp's patterns never match it as one.
    expect(hooks.find('POST', '/hoo\u212as')).toBeUndefined()
    expect(hooks.find('POST', '/HOOKS')).toBe('hooks')
    expect(hooks.find('POST', '/CAFÉ')).toBe('cafe')
    expect(hooks.find('POST', '/X/\u212a')).toBe('x')
    // Keys too: two keys a RegExp tells apart are two routes.
    const kelvin = routeTable([
      ['POST /key', 'ascii'],
      ['POST /\u212aey', 'kelvin'],
    ])
    expect(kelvin.find('POST', '/KEY')).toBe('ascii')
    expect(kelvin.find('POST', '/\u212aey')).toBe('kelvin')
    expect(kelvin.byPattern('POST', [{ type: 'text', value: '/\u212aey' }])).toBe('kelvin')
    // Beyond ASCII, keys the RegExp folds alike are one route, as ASCII ones are.
    expect(() =>
      routeTable([
        ['POST /café', 1],
        ['POST /CAFÉ', 2],
      ]),
    ).toThrow(
      /route "POST \/CAFÉ" is bound twice: "POST \/café" .* \(routing.caseSensitive is false: case/,
    )
  })

  it('tries a static key beyond ASCII before any pattern, as it does an ASCII one', () => {
    const pages = routeTable([
      ['POST /:page', 'page'],
      ['POST /café', 'cafe'],
    ])
    expect(pages.find('POST', '/café')).toBe('cafe')
    expect(pages.find('POST', '/CAFÉ/')).toBe('cafe')
    expect(pages.find('POST', '/thé')).toBe('page')
  })

  it('finds a binding by its route pattern, parameter names aside', () => {
    const patterns = routeTable([
      ['POST /users', 'users'],
      ['POST /users/:id', 'user'],
      ['GET /files/*path', 'files'],
    ])
    const param = { type: 'param', name: 'userId' } as const
    expect(patterns.byPattern('POST', [{ type: 'text', value: '/users/' }, param])).toBe('user')
    expect(patterns.byPattern('POST', [{ type: 'text', value: '/Users/' }])).toBe('users')
    // A path a pattern matches is not that pattern.
    expect(patterns.byPattern('POST', [{ type: 'text', value: '/users/7' }])).toBeUndefined()
    expect(
      patterns.byPattern('POST', [
        { type: 'text', value: '/users/' },
        { type: 'wildcard', name: '*' },
      ]),
    ).toBeUndefined()
    expect(
      patterns.byPattern('HEAD', [
        { type: 'text', value: '/files/' },
        { type: 'wildcard', name: 'rest' },
      ]),
    ).toBe('files')
  })

  it('refuses routing options that are not two booleans', () => {
    expect(() => routingOptions({ caseSensitve: true })).toThrow(
      /unknown option "caseSensitve" in routing/,
    )
    expect(() => routingOptions({ strict: 'yes' })).toThrow(/routing.strict must be true or false/)
    expect(() => routingOptions(true)).toThrow(/routing must be an object/)
    expect(routingOptions(undefined, { caseSensitive: true, strict: true })).toEqual({
      caseSensitive: true,
      strict: true,
    })
    expect(routingOptions({ strict: false }, { caseSensitive: true, strict: true })).toEqual({
      caseSensitive: true,
      strict: false,
    })
  })
})
