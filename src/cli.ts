#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { auditCommand } from './audit/command.js'

const USAGE = `Usage: safebody <command> [options]

Commands:
  audit [paths...]   find unsafe deserialization in JavaScript and TypeScript code

Run 'safebody audit --help' for the audit options.
`

// The package.json two levels above dist/<format>/cli.js; a version is only cosmetic.
function packageVersion(): string {
  try {
    const script = realpathSync(process.argv[1] ?? '')
    const manifest: unknown = JSON.parse(
      readFileSync(join(dirname(script), '..', '..', 'package.json'), 'utf8'),
    )
    const version = (manifest as { version?: unknown }).version
    return typeof version === 'string' ? version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

function main(args: string[]): number {
  const [command, ...rest] = args
  if (command === 'audit') {
    return auditCommand(rest, {
      cwd: process.cwd(),
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      version: packageVersion(),
    })
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  process.stderr.write(`safebody: unknown command '${command}'\n\n${USAGE}`)
  return 2
}

process.exitCode = main(process.argv.slice(2))
