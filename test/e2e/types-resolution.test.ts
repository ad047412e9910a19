import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'

// Every entry point's types, found from a project that installed safebody, under each module
// resolution TypeScript users set: node10 (the `"moduleResolution": "node"` of many Express
// codebases, which reads `typesVersions`, not `exports`), node16, nodenext and bundler.
// Run `npm run build` first (`npm test` does).
const root = fileURLToPath(new URL('../..', import.meta.url))
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>
}
const entries = Object.keys(manifest.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'safebody' : `safebody/${key.slice(2)}`))

const project = mkdtempSync(join(tmpdir(), 'safebody-types-'))
mkdirSync(join(project, 'node_modules'))
symlinkSync(root, join(project, 'node_modules', 'safebody'), 'dir')
afterAll(() => rmSync(project, { recursive: true, force: true }))

const settings: Array<[string, ts.CompilerOptions]> = [
  ['node10', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }],
  ['node16', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }],
  [
    'nodenext',
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  ],
  ['bundler', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }],
]

describe('the entry points have types under every module resolution', () => {
  it('finds an entry point per exports key', () => {
    expect(entries).toEqual(expect.arrayContaining(['safebody', 'safebody/node', 'safebody/hono']))
  })

  for (const [name, options] of settings) {
    it.each(entries)(`${name}: %s`, (entry) => {
      const from = join(project, 'index.ts')
      const found = ts.resolveModuleName(entry, from, options, ts.sys).resolvedModule
      expect(found, `${entry} under ${name}`).toBeDefined()
      expect(found?.resolvedFileName).toMatch(/\.d\.c?ts$/)
      expect(existsSync(found?.resolvedFileName ?? '')).toBe(true)
    })
  }
})
