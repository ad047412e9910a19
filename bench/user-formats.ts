/**
 * Each format's safebody path against its bare decoder plus the same compiled ajv validator.
 * Run: npm run build && npx tsx bench/user-formats.ts (MessagePack, YAML and protobuf on the example user message). The target is "within 10%" per format.
 */
import { fileURLToPath } from 'node:url'
import { Decoder, encode } from '@msgpack/msgpack'
import { dump, load } from 'js-yaml'
import { bench, do_not_optimize, run, summary } from 'mitata'
import protobuf from 'protobufjs'
import { routePolicy } from '../dist/esm/core/options.js'
import { compileRoute } from '../dist/esm/core/route.js'
import { loadProto } from '../dist/esm/core/proto.js'
import { createRegistry } from '../dist/esm/core/registry.js'
import { acceptBody } from './lib/safebody.js'

const protoDir = fileURLToPath(new URL('../proto/', import.meta.url))
const schema = (await import('../schemas/user.json', { with: { type: 'json' } })).default
const user = {
  name: 'Ada Lovelace',
  age: 36,
  email: 'ada@example.com',
  tags: ['math', 'engines', 'poetry'],
  role: 'ROLE_ADMIN',
}

const registry = createRegistry({ user: schema })
const proto = loadProto(protoDir)
const route = compileRoute(
  'POST /users',
  'user',
  routePolicy({}, { message: 'demo.User' }, 'bench'),
  registry,
  proto,
)
// The same compiled validator on both sides: the difference is decode, guard and mapping.
const validate = registry.validator('user')
const format = (name: string) => {
  const found = route.formats.byMediaType.get(name)
  if (found === undefined) throw new Error(name)
  return found
}

const bodies = {
  json: Buffer.from(JSON.stringify(user)),
  msgpack: Buffer.from(encode(user)),
  yaml: Buffer.from(dump(user)),
  protobuf: (() => {
    const type = protobuf.loadSync(`${protoDir}demo.proto`).lookupType('demo.User')
    return Buffer.from(type.encode(type.fromObject(user)).finish())
  })(),
}
const bareMsgpack = new Decoder()
const User = protobuf.loadSync(`${protoDir}demo.proto`).lookupType('demo.User')
const toObject = { longs: String, enums: String, bytes: String }

const check = (value: unknown) => {
  if (!validate(value)) throw new Error('invalid')
  return value
}

summary(() => {
  bench('json: JSON.parse + ajv', () =>
    do_not_optimize(check(JSON.parse(bodies.json.toString('utf8')))),
  )
  bench('json: safebody', () =>
    do_not_optimize(acceptBody(bodies.json, format('application/json'), route)),
  )
})
summary(() => {
  bench('msgpack: Decoder#decode + ajv', () =>
    do_not_optimize(check(bareMsgpack.decode(bodies.msgpack))),
  )
  bench('msgpack: safebody', () =>
    do_not_optimize(acceptBody(bodies.msgpack, format('application/msgpack'), route)),
  )
})
summary(() => {
  bench('yaml: js-yaml load + ajv', () =>
    do_not_optimize(check(load(bodies.yaml.toString('utf8')))),
  )
  bench('yaml: safebody', () =>
    do_not_optimize(acceptBody(bodies.yaml, format('application/yaml'), route)),
  )
})
summary(() => {
  bench('protobuf: decode + toObject + ajv', () =>
    do_not_optimize(check(User.toObject(User.decode(bodies.protobuf), toObject))),
  )
  bench('protobuf: safebody', () =>
    do_not_optimize(acceptBody(bodies.protobuf, format('application/x-protobuf'), route)),
  )
})

await run()
