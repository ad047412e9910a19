import { describe, expect, it } from 'vitest'
import { routeTable } from '../../src/core/routes.js'

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
    expect(() =>
      routeTable([
        ['POST /a', 1],
        ['post /A/', 2],
      ]),
    ).toThrow(/bound twice/)
  })
})
