import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'

// safebody/body-parser through the package's own exports, as an installed package is
// loaded: dist/esm for import, dist/cjs for require. Builds first when dist is older
// than src (npm test builds before it runs the tests).
const root = join(import.meta.dirname, '..', '..')
const entry = join(root, 'dist', 'cjs', 'body-parser', 'require.cjs')

function newest(dir: string): number {
  let latest = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = statSync(path)
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs)
  }
  return latest
}

beforeAll(() => {
  if (!existsSync(entry) || statSync(entry).mtimeMs < newest(join(root, 'src'))) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' })
  }
}, 180_000)

function node(args: string[]): unknown {
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
  return JSON.parse(out)
}

// One real request through the loaded json() parser, and the module's shape.
const probe = (load: string) => `
${load}
const http = require('node:http')
let threw = ''
try { bodyParser() } catch (e) { threw = e.message }
const server = http.createServer((req, res) => {
  bodyParser.json()(req, res, (err) => {
    res.end(JSON.stringify({
      status: err ? err.status : 200, type: err && err.type, body: req.body,
      shape: {
        callable: typeof bodyParser,
        json: typeof bodyParser.json, raw: typeof bodyParser.raw,
        text: typeof bodyParser.text, urlencoded: typeof bodyParser.urlencoded,
        named: typeof named.json + ',' + typeof named.urlencoded + ',' + typeof named.formatParser,
        structured: [bodyParser.msgpack, bodyParser.yaml, bodyParser.protobuf, named.msgpack].map((f) => typeof f).join(','),
        threw,
      },
    }))
  })
})
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address()
  const ok = await (await fetch('http://127.0.0.1:' + port, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })).json()
  const bad = await (await fetch('http://127.0.0.1:' + port, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{}}' })).json()
  console.log(JSON.stringify({ ok, bad }))
  server.close()
})
`

const expected = {
  ok: {
    status: 200,
    body: { a: 1 },
    shape: {
      callable: 'function',
      json: 'function',
      raw: 'function',
      text: 'function',
      urlencoded: 'function',
      named: 'function,function,function',
      structured: 'function,function,function,function',
      threw: 'The bodyParser() generic has been split into individual middleware to use instead.',
    },
  },
  bad: { status: 400, type: 'entity.forbidden.key' },
}

describe('safebody/body-parser as a package', () => {
  it('require() returns the callable with .json etc., like body-parser', () => {
    const load = `const bodyParser = require('safebody/body-parser'); const named = bodyParser`
    expect(node(['-e', probe(load)])).toMatchObject(expected)
  })

  it('import gives the default callable and the named exports', () => {
    const load = `import bodyParser, * as named from 'safebody/body-parser'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)`
    expect(node(['--input-type=module', '-e', probe(load)])).toMatchObject(expected)
  })

  it('json(), urlencoded(), text() and raw() load no other format, library or validator', () => {
    const out = node([
      '-e',
      `const bodyParser = require('safebody/body-parser')
bodyParser.json(); bodyParser.urlencoded(); bodyParser.text(); bodyParser.raw()
const files = () => Object.keys(require.cache)
const loaded = (name) => files().some((file) => file.includes('/node_modules/' + name + '/'))
const libraries = ['@msgpack/msgpack', 'protobufjs', 'js-yaml', 'ajv']
const before = libraries.filter(loaded)
const decoders = files().filter((file) => /decoders.(msgpack|protobuf|yaml)[.]js$/.test(file)).length
bodyParser.msgpack(); bodyParser.yaml()
console.log(JSON.stringify({ before, decoders, after: libraries.filter(loaded) }))`,
    ])
    // The other parsers still load, when first read.
    expect(out).toEqual({
      before: [],
      decoders: 0,
      after: ['@msgpack/msgpack', 'protobufjs', 'js-yaml'],
    })
  })

  it('import: json() and the other body-parser parsers load no other format or validator', () => {
    // A loader hook reports every module URL the process loads.
    const out = node([
      '--input-type=module',
      '-e',
      `import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'
const { port1, port2 } = new MessageChannel()
const urls = []
port1.on('message', (url) => urls.push(url))
const hook = 'let port; export function initialize(data) { port = data.port } ' +
  'export async function load(url, context, next) { port.postMessage(url); return next(url, context) }'
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] })
const { default: bodyParser } = await import('safebody/body-parser')
bodyParser.json(); bodyParser.urlencoded(); bodyParser.text(); bodyParser.raw()
await new Promise((resolve) => setTimeout(resolve, 100))
port1.close()
const hits = (re) => urls.filter((url) => re.test(url)).length
const parsers = typeof bodyParser.msgpack({}) + ',' + typeof bodyParser.yaml()
console.log(JSON.stringify({
  facade: hits(/dist\\/esm\\/body-parser\\/json[.]js$/),
  loaded: ['@msgpack', 'protobufjs', 'js-yaml', '/ajv/', 'decoders/msgpack', 'decoders/yaml', 'decoders/protobuf'].filter((name) => urls.some((url) => url.includes(name))),
  parsers,
}))`,
    ])
    expect(out).toEqual({ facade: 1, loaded: [], parsers: 'function,function' })
  })

  it('require() and import resolve to the CommonJS and ESM builds', () => {
    const cjs = node(['-p', `JSON.stringify(require.resolve('safebody/body-parser'))`])
    expect(cjs).toMatch(/dist[/\\]cjs[/\\]body-parser[/\\]require\.cjs$/)
    const esm = node([
      '--input-type=module',
      '-e',
      `console.log(JSON.stringify(import.meta.resolve('safebody/body-parser')))`,
    ])
    expect(esm).toMatch(/dist\/esm\/body-parser\/index\.js$/)
  })

  // body-parser 2.4 exports each parser alone: `require('body-parser/json')` is json().
  const subpath = (load: string) => `
${load}
const http = require('node:http')
const answers = {}
const server = http.createServer((req, res) => {
  const type = req.url.slice(1)
  parsers[type]()(req, res, (err) => res.end(JSON.stringify(err ? { status: err.status, type: err.type } : { body: Buffer.isBuffer(req.body) ? 'buffer:' + req.body : req.body })))
})
const sent = {
  json: ['application/json', '{"a":1}'], raw: ['application/octet-stream', 'ab'],
  text: ['text/plain', 'hi'], urlencoded: ['application/x-www-form-urlencoded', 'a=1'],
}
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address()
  const post = async (type, [contentType, body]) =>
    (await fetch('http://127.0.0.1:' + port + '/' + type, { method: 'POST', headers: { 'content-type': contentType }, body })).json()
  for (const type of Object.keys(sent)) answers[type] = await post(type, sent[type])
  answers.hostile = await post('json', ['application/json', '{"__proto__":{}}'])
  answers.names = Object.values(parsers).map((parser) => typeof parser + ' ' + parser.name)
  console.log(JSON.stringify(answers))
  server.close()
})
`
  const subpathAnswers = {
    json: { body: { a: 1 } },
    raw: { body: 'buffer:ab' },
    text: { body: 'hi' },
    urlencoded: { body: { a: '1' } },
    hostile: { status: 400, type: 'entity.forbidden.key' },
    names: ['function json', 'function raw', 'function text', 'function urlencoded'],
  }

  it("require('safebody/body-parser/json') etc. return the parser itself, as body-parser 2.4's do", () => {
    const load = `const parsers = Object.fromEntries(['json', 'raw', 'text', 'urlencoded'].map((type) => [type, require('safebody/body-parser/' + type)]))`
    expect(node(['-e', subpath(load)])).toEqual(subpathAnswers)
    const resolved = node(['-p', `JSON.stringify(require.resolve('safebody/body-parser/json'))`])
    expect(resolved).toMatch(/dist[/\\]cjs[/\\]body-parser[/\\]require-json\.cjs$/)
  })

  it("import json from 'safebody/body-parser/json' etc. give the parser as the default export", () => {
    const load = `import json from 'safebody/body-parser/json'
import raw from 'safebody/body-parser/raw'
import text from 'safebody/body-parser/text'
import urlencoded from 'safebody/body-parser/urlencoded'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const parsers = { json, raw, text, urlencoded }`
    expect(node(['--input-type=module', '-e', subpath(load)])).toEqual(subpathAnswers)
  })
})
