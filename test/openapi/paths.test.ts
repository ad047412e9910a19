import { match } from 'path-to-regexp'
import { describe, expect, test } from 'vitest'
import { basePaths, expressPath } from '../../src/openapi/paths.js'

describe('expressPath', () => {
  test.each([
    ['/users', '/users'],
    ['/users/{id}', '/users/:id'],
    ['/users/{userId}/posts/{postId}', '/users/:userId/posts/:postId'],
    ['/files/{name}.{ext}', '/files/:name.:ext'],
    ['/users/{user-id}', '/users/:"user-id"'],
    ['/v1/models:generate', '/v1/models\\:generate'],
    ['/search(legacy)', '/search\\(legacy\\)'],
    ['/a*b+c?', '/a\\*b\\+c\\?'],
  ])('%s -> %s', (template, path) => {
    expect(expressPath(template)).toBe(path)
    expect(() => match(path)).not.toThrow()
  })

  test('the converted paths match what the template describes', () => {
    const m = match(expressPath('/users/{user-id}/files/{name}.{ext}'), { decode: false })
    expect(m('/users/42/files/a.tar.gz')).toMatchObject({
      params: { 'user-id': '42', name: 'a.tar', ext: 'gz' },
    })
    expect(match(expressPath('/v1/models:generate'))('/v1/models:generate')).not.toBe(false)
    expect(match(expressPath('/v1/models:generate'))('/v1/models')).toBe(false)
  })

  test.each([
    ['/a/{x}{y}', /nothing between them/],
    ['/a/{}', /unclosed or empty/],
    ['/a/{x', /unclosed or empty/],
    ['/a/x}', /"}" with no "{"/],
    ['users', /must start with/],
  ])('%s is refused', (template, why) => {
    expect(() => expressPath(template)).toThrow(why)
  })
})

describe('basePaths', () => {
  test('no servers, or servers at the root, add nothing', () => {
    expect(basePaths(undefined)).toEqual([''])
    expect(basePaths([])).toEqual([''])
    expect(basePaths([{ url: 'https://api.example.com' }, { url: '/' }])).toEqual([''])
  })

  test('server paths, relative or absolute, with variables at their defaults', () => {
    expect(
      basePaths([
        { url: 'https://api.example.com/v1/' },
        { url: '/v1' },
        {
          url: 'https://{region}.example.com/{stage}',
          variables: { region: { default: 'eu' }, stage: { default: 'beta', enum: ['beta'] } },
        },
      ]),
    ).toEqual(['/v1', '/beta'])
  })

  test("each value of a variable's enum is a base path, its default too", () => {
    expect(
      basePaths([
        {
          url: 'https://{region}.example.com/{version}/api',
          variables: {
            region: { default: 'eu', enum: ['eu', 'us'] },
            version: { default: 'v1', enum: ['v2', 'v3', 7] },
          },
        },
      ]),
    ).toEqual(['/v1/api', '/v2/api', '/v3/api'])
  })

  test("a path's variables whose values spell more than 1000 paths are refused", () => {
    const many = { default: 'a', enum: Array.from({ length: 40 }, (_, i) => `v${i}`) }
    expect(() => basePaths([{ url: '/{a}/{b}', variables: { a: many, b: many } }])).toThrow(
      /path's variables spell more than 1000 paths; list the base paths as servers of their own/,
    )
  })

  test('a variable right after the host, or a host value with a path, is a path variable', () => {
    const base = { default: '/v1', enum: ['/v1', '/v2'] }
    const host = { default: 'x.example.com/base', enum: ['y.example.com'] }
    expect(
      basePaths([
        { url: 'https://api.example.com{base}', variables: { base } },
        { url: 'https://{host}/api', variables: { host } },
      ]),
    ).toEqual(['/v1', '/v2', '/base/api', '/api'])
  })

  test('variables of the host and port keep their default, whatever their enum', () => {
    const many = { default: 'a', enum: Array.from({ length: 40 }, (_, i) => `v${i}`) }
    const port = { default: '8080', enum: ['8080', '${PORT}'] }
    expect(
      basePaths([
        { url: 'https://{env}.{region}.example.com/v1', variables: { env: many, region: many } },
        { url: 'http://localhost:{port}/v2', variables: { port } },
      ]),
    ).toEqual(['/v1', '/v2'])
  })

  test('a server that its defaults make no URL is refused, named', () => {
    const port = { default: '${PORT}' }
    expect(() => basePaths([{ url: 'http://localhost:{port}/v1', variables: { port } }])).toThrow(
      /server "http:\/\/localhost:\{port\}\/v1" is not a URL as "http:\/\/localhost:\$\{PORT\}\/v1"/,
    )
  })

  test('a variable with no default is refused', () => {
    expect(() => basePaths([{ url: '/{stage}' }])).toThrow(/no default for \{stage\}/)
  })
})
