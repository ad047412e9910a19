// Builds dist/ (ESM) with tsc and makes the `safebody-audit` bin executable: tsc writes
// 644, and npx reuses its link across rebuilds.
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
chmodSync('dist/cli.js', 0o755)
