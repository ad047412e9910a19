import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RULES } from '../src/index.js'
import { ROOT } from './helpers.js'

// The safebody package this one audits for: the workspace root. Its exports map names the
// built files; the test loads their sources, so it needs no build of safebody first.
const SAFEBODY = join(ROOT, '..', '..')
const manifest = JSON.parse(readFileSync(join(SAFEBODY, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, string | { import?: { default?: string } }>
}

/** `import { a, b as c } from 'm'` and `import d from 'm'` in a hint: module and names. */
function importsIn(text: string): Array<{ from: string; names: string[] }> {
  const found: Array<{ from: string; names: string[] }> = []
  const pattern = /import\s+(?:(\w+)|\{([^}]*)\})\s+from\s+'([^']+)'/g
  for (const [, defaultName, named, from] of text.matchAll(pattern)) {
    const names = defaultName
      ? ['default']
      : (named ?? '').split(',').flatMap((part) => part.trim().split(/\s+as\s+/)[0] || [])
    found.push({ from: from as string, names })
  }
  return found
}

const suggested = RULES.flatMap((rule) =>
  [rule.fix, rule.good].flatMap((text) =>
    importsIn(text)
      .filter(({ from }) => from === manifest.name || from.startsWith(`${manifest.name}/`))
      .map((imported) => [rule.id, imported] as const),
  ),
)

describe('fix hints', () => {
  it('suggest safebody imports (so the check below is not vacuous)', () => {
    expect(suggested.map(([, { from }]) => from)).toEqual(
      expect.arrayContaining(['safebody', 'safebody/body-parser']),
    )
  })

  it.each(suggested.map(([id, imported]) => [id, imported.from, imported] as const))(
    '%s: every name it imports from %s exists',
    async (_id, from, { names }) => {
      const subpath = `.${from.slice(manifest.name.length)}`
      const entry = manifest.exports[subpath]
      expect(entry, `${from} is not in safebody's exports map`).toBeDefined()
      const file = typeof entry === 'string' ? entry : entry?.import?.default
      const source = (file as string).replace(/^\.\/dist\/esm\/(.*)\.js$/, 'src/$1.ts')
      const module = (await import(join(SAFEBODY, source))) as Record<string, unknown>
      for (const name of names) expect(module[name], `${from} exports ${name}`).toBeDefined()
    },
  )
})
