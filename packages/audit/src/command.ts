import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type AuditResult, failsAt, runAudit } from './index.js'
import { formatJson } from './report/json.js'
import { formatSarif } from './report/sarif.js'
import { formatText } from './report/text.js'
import { RULES } from './rules/index.js'
import { SEVERITIES, type Severity } from './types.js'

/** Where the command writes, so tests can run it in-process. */
export interface CommandIo {
  cwd: string
  stdout: (text: string) => void
  stderr: (text: string) => void
  version: string
}

const USAGE = `Usage: safebody-audit [paths...] [options]

Finds unsafe deserialization in .js, .mjs, .cjs, .jsx, .ts, .tsx, .mts and .cts files:
code run from data, unsafe deserializers, prototype pollution, unvalidated bodies,
request data in shell commands or module paths. Skips node_modules, .gitignore'd files,
vendor folders and minified or generated files; findings in test files are lowered to low.

Options:
  --format <text|json|sarif>   output format (default: text)
  --output <file>              write the report to a file instead of stdout
  --fail-on <severity>         exit 1 if a finding is at or above critical, high, medium,
                               low, or none to never fail (default: high)
  --exclude <pattern>          .gitignore-style pattern to skip (repeatable)
  --rules <id,id>              run only these rules
  --no-gitignore               do not read .gitignore files
  --include-vendor             also read vendor/ folders and minified or generated files
  --max-file-size <MB>         skip files larger than this, in MiB (default: 10)
  --test-files <low|skip|full> findings in test files: lowered to low (default), left
                               out, or reported at full severity
  --list-rules                 print the rule catalogue and exit
  -h, --help                   show this help

Suppress one finding with a comment on its line or the line above:
  // safebody-audit-ignore <rule-id>: <reason>

Exit codes: 0 no finding at or above --fail-on, 1 there is one, 2 usage error or the
report could not be written (--output).
`

const FORMATS = ['text', 'json', 'sarif'] as const
type Format = (typeof FORMATS)[number]
const TEST_FILES = ['low', 'skip', 'full'] as const
type TestFiles = (typeof TEST_FILES)[number]

/** The `safebody-audit` bin: runs the audit with these arguments; returns the exit code. */
export function auditCli(args: readonly string[], io: CommandIo): number {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    io.stderr(
      `safebody-audit: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`,
    )
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout(USAGE)
    return 0
  }
  if (values['list-rules']) {
    io.stdout(RULES.map((r) => `${r.id.padEnd(30)} ${r.severity.padEnd(9)} ${r.title}\n`).join(''))
    return 0
  }
  const format = values.format as Format
  const failOn = values['fail-on'] as Severity | 'none'
  let result: AuditResult
  try {
    result = runAudit({
      paths: positionals,
      cwd: io.cwd,
      exclude: values.exclude,
      gitignore: !values['no-gitignore'],
      includeVendor: values['include-vendor'],
      testFiles: values['test-files'] as TestFiles,
      maxFileSize: Number(values['max-file-size']) * 1024 * 1024,
      rules: values.rules
        ?.split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    })
  } catch (error) {
    io.stderr(`safebody-audit: ${error instanceof Error ? error.message : String(error)}\n`)
    return 2
  }
  const report =
    format === 'json'
      ? formatJson(result)
      : format === 'sarif'
        ? formatSarif(result, io.version)
        : formatText(result)
  if (values.output) {
    try {
      writeFileSync(values.output, report)
    } catch (error) {
      // Exit 1 means findings: a report that could not be written is exit 2, in one line.
      const reason = error instanceof Error ? error.message : String(error)
      io.stderr(`safebody-audit: cannot write the report to ${values.output}: ${reason}\n`)
      return 2
    }
  } else io.stdout(report)
  return failsAt(result, failOn) ? 1 : 0
}

function parse(args: readonly string[]) {
  const parsed = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string', default: 'high' },
      exclude: { type: 'string', multiple: true },
      rules: { type: 'string' },
      'no-gitignore': { type: 'boolean', default: false },
      'include-vendor': { type: 'boolean', default: false },
      'test-files': { type: 'string', default: 'low' },
      'max-file-size': { type: 'string', default: '10' },
      'list-rules': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const { format } = parsed.values
  const failOn = parsed.values['fail-on']
  if (!FORMATS.includes(format as Format)) {
    throw new Error(`--format must be one of ${FORMATS.join(', ')}, not '${format}'`)
  }
  if (failOn !== 'none' && !SEVERITIES.includes(failOn as Severity)) {
    throw new Error(`--fail-on must be one of ${SEVERITIES.join(', ')}, none, not '${failOn}'`)
  }
  const testFiles = parsed.values['test-files']
  if (!TEST_FILES.includes(testFiles as TestFiles)) {
    throw new Error(`--test-files must be one of ${TEST_FILES.join(', ')}, not '${testFiles}'`)
  }
  const maxFileSize = parsed.values['max-file-size']
  if (!/^\d+(\.\d+)?$/.test(maxFileSize) || Number(maxFileSize) <= 0) {
    throw new Error(`--max-file-size must be a positive number of MiB, not '${maxFileSize}'`)
  }
  return parsed
}
