import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverFiles } from '../src/scan.js'

let root: string

function write(path: string, text = 'export {}\n'): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'safebody-scan-'))
  mkdirSync(join(root, '.git'))
  write('.gitignore', 'dist/\n*.log\n')
  for (const file of ['a.js', 'b.mjs', 'c.cjs', 'd.ts', 'e.tsx', 'f.mts', 'g.cts', 'h.jsx']) {
    write(`src/${file}`)
  }
  write('src/types.d.ts')
  write('src/readme.md', '# not code')
  write('src/generated/.gitignore', '*.gen.ts\n!keep.gen.ts\n')
  write('src/generated/skip.gen.ts')
  write('src/generated/keep.gen.ts')
  write('src/generated/plain.ts')
  write('dist/bundle.js')
  write('node_modules/lib/index.js')
  write('.yarn/releases/yarn-4.0.0.cjs')
  write('src/node_modules/nested/index.js')
  write('fixtures/legacy.js')
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

const names = (files: { display: string }[]) => files.map((f) => f.display)

describe('discoverFiles', () => {
  it('reads every script extension, skips node_modules, declarations and .gitignore matches', () => {
    expect(names(discoverFiles({ paths: ['.'], cwd: root }).files)).toEqual([
      'fixtures/legacy.js',
      'src/a.js',
      'src/b.mjs',
      'src/c.cjs',
      'src/d.ts',
      'src/e.tsx',
      'src/f.mts',
      'src/g.cts',
      'src/generated/keep.gen.ts',
      'src/generated/plain.ts',
      'src/h.jsx',
    ])
  })

  it('applies --exclude patterns and the parent .gitignore when scanning a subfolder', () => {
    const files = discoverFiles({
      paths: ['src'],
      cwd: root,
      exclude: ['generated/', '*.tsx'],
    }).files
    expect(names(files)).toEqual([
      'src/a.js',
      'src/b.mjs',
      'src/c.cjs',
      'src/d.ts',
      'src/f.mts',
      'src/g.cts',
      'src/h.jsx',
    ])
    const dist = discoverFiles({ paths: ['.'], cwd: root, gitignore: false }).files
    expect(names(dist)).toContain('dist/bundle.js')
    expect(names(dist)).not.toContain('node_modules/lib/index.js')
  })

  it('takes a file named on the command line even if .gitignore lists it', () => {
    expect(
      names(discoverFiles({ paths: ['dist/bundle.js', 'src/a.js'], cwd: root }).files),
    ).toEqual(['dist/bundle.js', 'src/a.js'])
  })
})
