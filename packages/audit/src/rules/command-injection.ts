import ts from 'typescript'
import { unwrap } from '../bindings.js'
import type { FileContext } from '../context.js'
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
    'Request data that picks the program of spawn() or execFile() is reported too, and request ' +
    "data as the command of a shell run by spawn() or execFile() (spawn('sh', ['-c', cmd])). " +
    'JSON.stringify() is no shell quoting: its double quotes leave `$()` and backquotes to the ' +
    'shell.',
  fix: 'Use execFile/spawn with a fixed program, an argument array and no shell; validate the values.',
  bad: `exec(\`convert \${req.query.file} out.png\`)`,
  good: "execFile('convert', [validatedName, 'out.png'])",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined) return undefined
    const [command, args] = node.arguments
    if (SHELL_COMMANDS.has(callee)) {
      if (!command || !inShellCommand(command, file)) return undefined
      return { node, message: `${callee}() runs a shell command built from request data` }
    }
    if (!PROGRAM_RUNNERS.has(callee)) return undefined
    if (command && file.isRequestData(command)) {
      return { node, message: `${callee}() runs a program chosen by request data` }
    }
    const script = command && args && shellScript(command, args)
    if (script && inShellCommand(script, file)) {
      return { node, message: `${callee}() runs a shell with a command from request data` }
    }
    // With a shell, the arguments are joined into its command line.
    const argsFromRequest = args !== undefined && inShellCommand(args, file)
    if (argsFromRequest && usesShell(node)) {
      return { node, message: `${callee}() with shell: true gets arguments from request data` }
    }
    return undefined
  },
}

// A shell given its command as an argument: sh/bash -c, cmd /c, powershell -Command.
const SHELLS: readonly [RegExp, RegExp][] = [
  [/^(?:.*\/)?(?:sh|bash|zsh|dash|ksh|ash)$/, /^-[a-z]*c[a-z]*$/],
  [/^(?:.*[\\/])?cmd(?:\.exe)?$/i, /^\/[ck]$/i],
  [/^(?:.*[\\/])?(?:powershell|pwsh)(?:\.exe)?$/i, /^-(?:c|command)$/i],
]

/** `spawn('sh', ['-c', script])`: the script, the argument after the shell's command flag. */
function shellScript(program: ts.Expression, args: ts.Expression): ts.Expression | undefined {
  const name = unwrap(program)
  const list = unwrap(args)
  if (!ts.isStringLiteralLike(name) || !ts.isArrayLiteralExpression(list)) return undefined
  const shell = SHELLS.find(([pattern]) => pattern.test(name.text))
  if (!shell) return undefined
  const flag = list.elements.findIndex((e) => ts.isStringLiteralLike(e) && shell[1].test(e.text))
  return flag === -1 ? undefined : list.elements[flag + 1]
}

/**
 * Request data in a shell command line: as it came, or quoted by JSON.stringify, here or in a
 * local (`const payload = JSON.stringify(req.body)`): its double quotes leave `$(...)` and
 * backquotes to the shell.
 */
function inShellCommand(expr: ts.Expression, file: FileContext): boolean {
  return file.isRequestData(expr) || file.isRequestJson(expr)
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
