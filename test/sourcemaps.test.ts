import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// Every source map the package ships points at a file the package ships (npm test builds
// dist/ before the tests run).
describe('the packed files', () => {
  it('ship the source of every source map', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      encoding: 'utf8',
    })
    const files = new Set(
      (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path),
    )
    const maps = [...files].filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    const missing: string[] = []
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }
      for (const source of sources) {
        const file = path.posix.normalize(path.posix.join(path.posix.dirname(map), source))
        if (!files.has(file)) missing.push(`${map} -> ${file}`)
      }
    }
    expect(missing).toEqual([])
    expect([...files].some((f) => f.startsWith('packages/') || f.startsWith('test/'))).toBe(false)
  })
})
