import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

// Through the package's own `exports`, as a user would: run `npm run build` first
// (`npm test` does).
describe('the published entry points', () => {
  it('has been built', () => {
    expect(existsSync(new URL('../../dist/esm/index.js', import.meta.url))).toBe(true)
  })

  it('imports from ESM', async () => {
    const mod = await import('safebody')
    expect(typeof mod.safeBody).toBe('function')
    expect(typeof mod.problemDetails).toBe('function')
    expect(typeof mod.safeBody({ 'POST /a': { type: 'object' } }).route).toBe('function')
  })

  it('requires from CommonJS', () => {
    const require = createRequire(import.meta.url)
    const mod = require('safebody') as typeof import('safebody')
    expect(typeof mod.safeBody).toBe('function')
    expect(typeof mod.problemDetails).toBe('function')
    expect(require.resolve('safebody')).toMatch(/dist[\\/]cjs[\\/]index\.js$/)
  })

  it.each(['koa', 'hono'])(
    'safebody/%s imports from ESM and requires from CommonJS',
    async (name) => {
      // A specifier built at run time: vite is told not to resolve it ahead.
      const esm = (await import(/* @vite-ignore */ `safebody/${name}`)) as { safeBody: unknown }
      expect(typeof esm.safeBody).toBe('function')
      const require = createRequire(import.meta.url)
      const cjs = require(`safebody/${name}`) as { safeBody: unknown }
      expect(typeof cjs.safeBody).toBe('function')
      expect(require.resolve(`safebody/${name}`)).toMatch(
        new RegExp(`dist[\\\\/]cjs[\\\\/]${name}\\.js$`),
      )
    },
  )
})
