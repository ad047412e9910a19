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

  it('holds a HEAD to the GET binding of its path, unless a HEAD key names it', () => {
    const gets = routeTable([
      ['GET /feed', 'feed'],
      ['GET /items/:id', 'item'],
      ['HEAD /items/:id', 'item head'],
      ['HEAD /own', 'own head'],
      ['GET /own', 'own get'],
    ])
    expect(gets.find('HEAD', '/feed')).toBe('feed')
    expect(gets.find('HEAD', '/Feed/')).toBe('feed')
    expect(gets.find('HEAD', '/items/1')).toBe('item head')
    expect(gets.find('HEAD', '/own')).toBe('own head')
    expect(gets.find('HEAD', '/other')).toBeUndefined()
    // Only HEAD falls back, and only to GET.
    expect(table.find('HEAD', '/users')).toBeUndefined()
    expect(gets.find('POST', '/feed')).toBeUndefined()
    expect(gets.find('OPTIONS', '/feed')).toBeUndefined()
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
