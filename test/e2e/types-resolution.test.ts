import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
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
  dependencies: Record<string, string>
  peerDependencies: Record<string, string>
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

describe('the declarations type-check in a strict project without esModuleInterop', () => {
  // A project that sets neither esModuleInterop nor skipLibCheck reads every declaration
  // safebody ships; one that default-imports a CommonJS package (`import protobuf from
  // 'protobufjs'`) fails there under node10. Only safebody's own files are judged: the peers'
  // types (@types/koa ...) are theirs.
  // node10 reads them as CommonJS, nodenext as either: the other two add only time.
  const dist = join(root, 'dist')
  for (const [name, options] of settings.filter(
    ([name]) => name === 'node10' || name === 'nodenext',
  )) {
    it(name, () => {
      const file = join(project, `consumer-${name}.ts`)
      writeFileSync(
        file,
        entries
          .map((entry, i) => `import * as entry${i} from '${entry}'\nexport { entry${i} }\n`)
          .join(''),
      )
      const program = ts.createProgram([file], {
        ...options,
        strict: true,
        noEmit: true,
        esModuleInterop: false,
        allowSyntheticDefaultImports: false,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      })
      const ours = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file === undefined || d.file.fileName.startsWith(dist))
        .map((d) => {
          const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
          return d.file === undefined ? text : `${d.file.fileName.slice(dist.length)}: ${text}`
        })
      expect(ours).toEqual([])
      const read = program.getSourceFiles().filter((f) => f.fileName.startsWith(dist))
      expect(read.length).toBeGreaterThan(entries.length)
    })
  }
})

/** The packages the published declarations import (node: builtins aside). */
function importedByDeclarations(): Set<string> {
  const found = new Set<string>()
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) visit(path)
      else if (/\.d\.c?ts$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8')
        for (const [, name] of text.matchAll(/^(?:import|export)[^'"\n]*from '([^'.][^']*)'/gm)) {
          if (name !== undefined && !name.startsWith('node:')) {
            found.add(
              name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!,
            )
          }
        }
      }
    }
  }
  visit(join(root, 'dist'))
  return found
}

describe('the published declarations need nothing a user does not install', () => {
  it('import only dependencies that ship their own types, or peers the user brings', () => {
    const needs = [...importedByDeclarations()]
    expect(needs.length).toBeGreaterThan(0)
    for (const name of needs) {
      if (name in manifest.peerDependencies) continue
      // A dependency: installed with safebody, so its own types must come with it (a
      // devDependency's @types package never reaches a user).
      expect(name in manifest.dependencies, `${name} is a dependency`).toBe(true)
      const pkg = JSON.parse(
        readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { types?: string; typings?: string; exports?: unknown }
      const typed =
        pkg.types !== undefined ||
        pkg.typings !== undefined ||
        JSON.stringify(pkg.exports ?? {}).includes('"types"') ||
        existsSync(join(root, 'node_modules', name, 'index.d.ts'))
      expect(typed, `${name} ships its own types`).toBe(true)
    }
  })
})
