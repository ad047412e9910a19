import ts from 'typescript'
import type { Rule } from '../types.js'

// These always hand their command line to /bin/sh (or cmd.exe).
const SHELL_COMMANDS = new Set(['child_process.exec', 'child_process.execSync', 'shelljs.exec'])
// These run a program directly unless their options say `shell: true`.
const PROGRAM_RUNNERS = new Set([
  'child_process.spawn',
  'child_process.spawnSync',
  'child_process.execFile',
  'child_process.execFileSync',
])

/** Request data reaching a shell command line, or choosing the program that runs. */
export const commandInjection: Rule = {
  id: 'command-injection',
  severity: 'critical',
  title: 'Request data reaches a shell command',
  description:
    'exec() and execSync() run their string through a shell, as do spawn() and execFile() with ' +
    '`shell: true`; request data in that string can add commands with `;`, `|` or `$()`. ' +
    'Request data that picks the program of spawn() or execFile() is reported too.',
  fix: 'Use execFile/spawn with a fixed program, an argument array and no shell; validate the values.',
  bad: `exec(\`convert \${req.query.file} out.png\`)`,
  good: "execFile('convert', [validatedName, 'out.png'])",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined) return undefined
    const [command, args] = node.arguments
    if (SHELL_COMMANDS.has(callee)) {
      if (!command || !file.isRequestData(command)) return undefined
      return { node, message: `${callee}() runs a shell command built from request data` }
    }
    if (!PROGRAM_RUNNERS.has(callee)) return undefined
    if (command && file.isRequestData(command)) {
      return { node, message: `${callee}() runs a program chosen by request data` }
    }
    const argsFromRequest = args !== undefined && file.isRequestData(args)
    if (argsFromRequest && usesShell(node)) {
      return { node, message: `${callee}() with shell: true gets arguments from request data` }
    }
    return undefined
  },
}

function usesShell(call: ts.CallExpression): boolean {
  return call.arguments.some(
    (arg) =>
      ts.isObjectLiteralExpression(arg) &&
      arg.properties.some(
        (prop) =>
          ts.isPropertyAssignment(prop) &&
          prop.name.getText() === 'shell' &&
          prop.initializer.kind !== ts.SyntaxKind.FalseKeyword,
      ),
  )
}
