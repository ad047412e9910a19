import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { collectBindings, qualifiedName } from '../src/bindings.js'
import { createFileContext } from '../src/context.js'
import { parseSource } from '../src/parse.js'

const project = {
  jsYamlMajor: () => undefined,
  packageVersion: () => undefined,
  hasGlobalValidator: false,
}

function callee(source: string, name: string, path = 'x.ts'): string | undefined {
  const file = parseSource(path, source)
  const bindings = collectBindings(file)
  let found: string | undefined
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.getText() === name) {
      found = qualifiedName(node.expression, bindings)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

describe('module bindings', () => {
  it.each([
    ["const { exec } = require('child_process'); exec(x)", 'exec', 'child_process.exec'],
    ["const { exec: run } = require('node:child_process'); run(x)", 'run', 'child_process.exec'],
    ["import * as cp from 'node:child_process'; cp.spawn(x)", 'cp.spawn', 'child_process.spawn'],
    ["import yaml from 'js-yaml'; yaml.load(x)", 'yaml.load', 'js-yaml.load'],
    ["import { load as parse } from 'js-yaml'; parse(x)", 'parse', 'js-yaml.load'],
    [
      "const vm = require('vm'); new vm.Script(x); vm['runInNewContext'](x)",
      "vm['runInNewContext']",
      'vm.runInNewContext',
    ],
    [
      "const run = require('util').promisify(require('child_process').exec); run(x)",
      'run',
      'child_process.exec',
    ],
    [
      "import cp = require('child_process'); cp.execSync(x)",
      'cp.execSync',
      'child_process.execSync',
    ],
    ['globalThis.eval(x)', 'globalThis.eval', 'eval'],
    ['localHelper(x)', 'localHelper', 'localHelper'],
  ])('%s resolves %s to %s', (source, name, expected) => {
    expect(callee(source, name)).toBe(expected)
  })
})

describe('request data', () => {
  const tainted = (source: string): string[] => {
    const file = parseSource('x.js', source)
    const context = createFileContext('x.js', file, project)
    const names: string[] = []
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.expression.getText() === 'sink') {
        const arg = node.arguments[0]
        if (arg && context.isRequestData(arg)) names.push(arg.getText())
      }
      ts.forEachChild(node, visit)
    }
    visit(file)
    return names
  }

  it('follows locals, destructuring and string building inside a handler', () => {
    const source = `
      app.post('/x', (request, res) => {
        const body = request.body
        const { name, tags: [first] } = body
        const { query: q } = request
        let later
        later = q.page
        sink(body); sink(name); sink(first); sink(later); sink(\`a\${name}\`)
        sink(request.get('x-id')); sink(name.trim()); sink(request.method); sink('fixed')
        items.forEach((item) => sink(item + body.suffix))
      })`
    expect(tainted(source)).toEqual([
      'body',
      'name',
      'first',
      'later',
      `\`a\${name}\``,
      "request.get('x-id')",
      'name.trim()',
      'item + body.suffix',
    ])
  })

  it('finds the request in error handlers and ignores functions that are no handlers', () => {
    const source = `
      app.use((err, req, res, next) => { sink(req.query.debug); sink(err) })
      function helper(options) { sink(options.body) }`
    expect(tainted(source)).toEqual(['req.query.debug'])
  })
})
