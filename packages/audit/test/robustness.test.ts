import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOO_DEEP } from '../src/analyze.js'
import { auditCli } from '../src/command.js'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'safebody-robust-'))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const nobody = { uid: 65534, gid: 65534 }

/** Whether `nobody` can run Node on the built command (`npm test` builds dist/ first). */
function nobodyCanRun(): boolean {
  const probe = `require('fs').accessSync(${JSON.stringify(cli)}, require('fs').constants.R_OK)`
  return spawnSync(process.execPath, ['-e', probe], nobody).status === 0
}

/** The built command run as `nobody`, for a case root would pass through. */
function runAsNobody(cwd: string, args: string[]): { code: number; stdout: string } {
  for (let at = cwd; at !== dirname(dir); at = dirname(at)) chmodSync(at, 0o755)
  const child = spawnSync(process.execPath, [cli, ...args], {
    ...nobody,
    cwd,
    encoding: 'utf8',
  })
  if (child.error) throw child.error
  return { code: child.status ?? -1, stdout: child.stdout }
}

function run(cwd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = ''
  let stderr = ''
  const code = auditCli(args, {
    cwd,
    version: '0',
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
  })
  return { code, stdout, stderr }
}

describe('a file too deep for the recursive walks', () => {
  it('is listed as unreadable, and the other files are still audited', () => {
    const root = mkdtempSync(join(dir, 'deep-'))
    // Generated here, not committed: a 3,000-link method chain and 3,000 `+`-joined lines.
    let chain = 'module.exports = table\n'
    for (let i = 0; i < 3000; i++) chain += `  .add("k${i}", ${i})\n`
    writeFileSync(join(root, 'chain.js'), chain)
    let concat = 'const s = "a"\n'
    for (let i = 0; i < 3000; i++) concat += `  + "k${i}"\n`
    writeFileSync(join(root, 'concat.js'), `${concat}eval(s)\n`)
    writeFileSync(join(root, 'app.js'), 'eval(process.env.CODE)\n')

    const json = run(root, ['.', '--format', 'json', '--rules', 'code-eval'])
    expect(json.stderr).toBe('')
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.findings.map((f: { file: string; line: number }) => [f.file, f.line])).toEqual([
      ['app.js', 1],
    ])
    expect(report.files).toBe(1)
    expect(report.unreadable).toEqual([
      { file: 'chain.js', error: TOO_DEEP },
      { file: 'concat.js', error: TOO_DEEP },
    ])

    const text = run(root, ['.', '--rules', 'code-eval'])
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(`  could not audit chain.js: ${TOO_DEEP}\n`)
    expect(text.stdout).toMatch(/^1 finding \(1 high\) in 1 file, /m)

    const sarif = JSON.parse(run(root, ['.', '--format', 'sarif']).stdout)
    const [invocation] = sarif.runs[0].invocations
    expect(invocation.executionSuccessful).toBe(true)
    expect(invocation.toolExecutionNotifications).toEqual([
      {
        level: 'warning',
        message: { text: `could not audit chain.js: ${TOO_DEEP}` },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'chain.js' } } }],
      },
      {
        level: 'warning',
        message: { text: `could not audit concat.js: ${TOO_DEEP}` },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'concat.js' } } }],
      },
    ])
  })
})

describe('paths that cannot be read', () => {
  const isRoot = process.getuid?.() === 0

  it('lists a .gitignore that is a folder and a FIFO named on the command line, and goes on', () => {
    const root = mkdtempSync(join(dir, 'paths-'))
    mkdirSync(join(root, 'src', '.gitignore'), { recursive: true })
    writeFileSync(join(root, 'src', 'app.js'), 'eval(process.env.CODE)\n')
    execFileSync('mkfifo', [join(root, 'pipe.js')])
    const { code, stdout, stderr } = run(root, ['src', 'pipe.js', '--format', 'json'])
    expect(stderr).toBe('')
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report.findings.map((f: { file: string; line: number }) => [f.file, f.line])).toEqual([
      ['src/app.js', 1],
    ])
    expect(report.unreadable).toEqual([
      { file: 'src/.gitignore', error: 'Error: EISDIR: illegal operation on a directory, read' },
      { file: 'pipe.js', error: 'not a regular file or a directory' },
    ])
  })

  // chmod does not stop root from listing a folder: run as root, the suite runs the built
  // command as `nobody` (uid 65534) for this case, in folders it may read. Skipped only where
  // root's Node or the build sits where nobody may not read it.
  it.skipIf(isRoot && !nobodyCanRun())('lists a folder it may not list, and goes on', () => {
    const root = mkdtempSync(join(dir, 'locked-'))
    mkdirSync(join(root, 'locked'))
    writeFileSync(join(root, 'locked', 'hidden.js'), 'eval(x)\n')
    writeFileSync(join(root, 'app.js'), 'eval(process.env.CODE)\n')
    chmodSync(join(root, 'locked'), 0o000)
    try {
      const args = ['.', '--format', 'json']
      const { code, stdout } = isRoot ? runAsNobody(root, args) : run(root, args)
      expect(code).toBe(1)
      const report = JSON.parse(stdout)
      expect(report.findings.map((f: { file: string }) => f.file)).toEqual(['app.js'])
      expect(report.unreadable).toEqual([
        {
          file: 'locked',
          error: `Error: EACCES: permission denied, scandir '${join(root, 'locked')}'`,
        },
      ])
    } finally {
      chmodSync(join(root, 'locked'), 0o755)
    }
  })
})

describe('SARIF artifact URIs', () => {
  const uris = (cwd: string, args: string[]): string[] => {
    const log = JSON.parse(run(cwd, [...args, '--format', 'sarif', '--fail-on', 'none']).stdout)
    return log.runs[0].results.map(
      (r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) =>
        r.locations[0]?.physicalLocation.artifactLocation.uri,
    )
  }

  it('percent-encode each segment, so # and ? stay in the path', () => {
    const root = mkdtempSync(join(dir, 'uri-'))
    mkdirSync(join(root, 'src'))
    writeFileSync(join(root, 'src', 'issue#12.js'), 'eval(process.env.X)\n')
    writeFileSync(join(root, 'src', 'a b?.js'), 'eval(process.env.X)\n')
    const relative = uris(root, ['src'])
    expect(relative).toEqual(['src/a%20b%3F.js', 'src/issue%2312.js'])
    expect(new URL(relative[1] as string, 'file:///repo/').pathname).toBe('/repo/src/issue%2312.js')
    // Outside the working directory: an absolute file: URI.
    mkdirSync(join(root, 'elsewhere'))
    const absolute = uris(join(root, 'elsewhere'), [join(root, 'src')])
    expect(absolute).toEqual([`file://${root}/src/a%20b%3F.js`, `file://${root}/src/issue%2312.js`])
    expect(fileURLToPath(absolute[1] as string)).toBe(join(root, 'src', 'issue#12.js'))
  })
})

describe('a file over --max-file-size', () => {
  it('is skipped unread with reason "too large", even when named; the option raises the limit', () => {
    const root = mkdtempSync(join(dir, 'size-'))
    writeFileSync(join(root, 'app.js'), 'eval(process.env.CODE)\n')
    // 10 MiB and a byte, sparse: the size is all the audit looks at before reading.
    const big = join(root, 'bundle.js')
    writeFileSync(big, 'eval(x)\n')
    truncateSync(big, 10 * 1024 * 1024 + 1)
    const json = run(root, ['.', 'bundle.js', '--format', 'json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.files).toBe(1)
    expect(report.findings.map((f: { file: string }) => f.file)).toEqual(['app.js'])
    expect(report.skipped).toEqual([{ file: 'bundle.js', reason: 'too large' }])
    const text = run(root, ['app.js', '--max-file-size', '0.00001'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^0 findings in 0 files, /m)
    expect(text.stdout).toContain(
      '  skipped app.js: too large (--max-file-size raises the limit)\n',
    )
    const bad = run(root, ['app.js', '--max-file-size', '10MB'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^safebody-audit: --max-file-size must be a positive number of MiB/)
  })
})
