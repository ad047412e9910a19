#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { auditCli } from './command.js'

// The package.json one level above dist/cli.js; the version is only shown in SARIF.
function packageVersion(): string {
  try {
    const script = realpathSync(process.argv[1] ?? '')
    const manifest: unknown = JSON.parse(
      readFileSync(join(dirname(script), '..', 'package.json'), 'utf8'),
    )
    const version = (manifest as { version?: unknown }).version
    return typeof version === 'string' ? version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

// exitCode, not exit(): a large report to a pipe must finish writing first.
process.exitCode = auditCli(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  version: packageVersion(),
})
