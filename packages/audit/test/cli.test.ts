import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { auditCli } from '../src/command.js'
import { ROOT } from './helpers.js'

const POSITIVE = 'test/fixtures/rules/code-eval/positive.js'
const NEGATIVE = 'test/fixtures/rules/code-eval/negative.js'
const MEDIUM_ONLY = 'test/fixtures/rules/timer-string/negative.js'

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = ''
  let stderr = ''
  const code = auditCli(args, {
    cwd: ROOT,
    version: '9.9.9',
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
  })
  return { code, stdout, stderr }
}

interface SarifLog {
  $schema: string
  version: string
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string }[] } }
    results: {
      ruleId: string
      level: string
      message: { text: string }
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string }
          region: { startLine: number; startColumn: number }
        }
      }[]
    }[]
  }[]
}

describe('safebody-audit (in-process)', () => {
  it('prints file:line:col rule severity message and a fix, and exits 1 at or above high', () => {
    const { code, stdout } = run([POSITIVE, '--rules', 'code-eval'])
    expect(code).toBe(1)
    const lines = stdout.split('\n')
    expect(lines[0]).toBe(`${POSITIVE}:6:22 code-eval critical eval() runs request data as code`)
    expect(lines[1]).toMatch(/^ {2}fix: /)
    expect(stdout).toMatch(/5 findings \(2 critical, 3 high\) in 1 file, 0 suppressed/)
  })

  it('exits 0 when nothing reaches --fail-on', () => {
    expect(run([NEGATIVE]).code).toBe(0)
    expect(run([POSITIVE, '--fail-on', 'none']).code).toBe(0)
    const timers = 'test/fixtures/rules/timer-string/positive.js'
    expect(run([timers, '--fail-on', 'critical']).code).toBe(0)
    expect(run([timers, '--fail-on', 'medium']).code).toBe(1)
    expect(run([MEDIUM_ONLY]).code).toBe(0)
  })

  it('writes JSON for tools', () => {
    const { stdout } = run([POSITIVE, '--format', 'json', '--rules', 'code-eval'])
    const report = JSON.parse(stdout)
    expect(report.summary).toEqual({
      findings: 5,
      suppressed: 0,
      bySeverity: { critical: 2, high: 3, medium: 0, low: 0 },
    })
    expect(report.findings[0]).toMatchObject({
      file: POSITIVE,
      line: 6,
      column: 22,
      ruleId: 'code-eval',
    })
  })

  it('writes SARIF 2.1.0 with the required fields', () => {
    const log: SarifLog = JSON.parse(
      run([POSITIVE, '--format', 'sarif', '--rules', 'code-eval']).stdout,
    )
    expect(log.version).toBe('2.1.0')
    expect(log.$schema).toMatch(/sarif-2\.1\.0/)
    const [only] = log.runs
    expect(only?.tool.driver.name).toBe('safebody-audit')
    expect(only?.tool.driver.rules.map((r) => r.id)).toContain('code-eval')
    expect(only?.results).toHaveLength(5)
    for (const result of only?.results ?? []) {
      expect(result.ruleId).toBe('code-eval')
      expect(result.level).toBe('error')
      expect(result.message.text.length).toBeGreaterThan(0)
      const location = result.locations[0]?.physicalLocation
      expect(location?.artifactLocation.uri).toBe(POSITIVE)
      expect(location?.region.startLine).toBeGreaterThan(0)
      expect(location?.region.startColumn).toBeGreaterThan(0)
    }
  })

  it('answers --help and refuses bad options with exit code 2', () => {
    const list = run(['--list-rules'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(
      /^command-injection +critical +Request data reaches a shell command$/m,
    )
    const help = run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: safebody-audit/)
    const bad = run(['--format', 'xml'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--format must be one of text, json, sarif/)
    expect(run(['--rules', 'no-such-rule', NEGATIVE]).code).toBe(2)
    expect(run(['--fail-on', 'severe']).code).toBe(2)
  })

  it('skips vendored and minified files unless --include-vendor, and takes --test-files', () => {
    const app = 'test/fixtures/corpus/frontend-bundle'
    const skipping = run([app, '--fail-on', 'none'])
    expect(skipping.stdout).toMatch(/^ {2}skipped 3 vendored, minified or generated paths /m)
    expect(skipping.stdout).not.toMatch(/public\/vendor\//)
    const reading = run([app, '--fail-on', 'none', '--include-vendor'])
    expect(reading.stdout).not.toMatch(/skipped \d+ vendored/)
    expect(reading.stdout).toMatch(/^test\/fixtures\/corpus\/frontend-bundle\/public\/vendor\//m)
    const tests = 'test/fixtures/corpus/tested-service'
    expect(
      run([tests, '--fail-on', 'low', '--test-files', 'skip', '--rules', 'code-eval']).code,
    ).toBe(0)
    expect(
      run([tests, '--fail-on', 'high', '--test-files', 'full', '--rules', 'code-eval']).code,
    ).toBe(1)
    expect(run([tests, '--fail-on', 'high', '--rules', 'code-eval']).code).toBe(0)
    const bad = run([tests, '--test-files', 'none'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--test-files must be one of low, skip, full/)
  })

  it('exits 2 with one line on stderr when --output cannot be written', () => {
    const target = join(tmpdir(), 'safebody-audit-no-such-dir', 'report.sarif')
    const { code, stdout, stderr } = run([NEGATIVE, '--format', 'sarif', '--output', target])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      `safebody-audit: cannot write the report to ${target}: ` +
        `ENOENT: no such file or directory, open '${target}'\n`,
    )
  })

  it('takes paths, not subcommands: an unknown path is a usage error', () => {
    let said = ''
    const io = { cwd: ROOT, version: '0', stdout: () => {}, stderr: (t: string) => (said += t) }
    expect(auditCli(['no-such-dir'], io)).toBe(2)
    expect(said).toMatch(/^safebody-audit: /)
  })
})

describe('safebody-audit (child process)', () => {
  // Node loads the TypeScript source through tsx's loader, so no build is needed first.
  const node = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    })

  // Two real processes that each load TypeScript: seconds on an idle machine, more on a busy
  // CI runner, hence a timeout of its own.
  it(
    'runs as a bin: exit code 1 with text findings, 0 with SARIF on a clean file',
    {
      timeout: 60_000,
    },
    () => {
      const failing = node(['test/fixtures/rules', '--format', 'text'])
      expect(failing.status).toBe(1)
      expect(failing.stdout).toMatch(/^test\/fixtures\/rules\/\S+:\d+:\d+ [a-z0-9-]+ critical /m)
      const passing = node([NEGATIVE, '--format', 'sarif'])
      expect(passing.status).toBe(0)
      expect(JSON.parse(passing.stdout).version).toBe('2.1.0')
    },
  )
})
