import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks } from '../helpers/app.js'
import {
  brokenProtoDir,
  encodeProto,
  encoders,
  formatApp,
  media,
  post,
  protoDir,
} from './helpers.js'

const user = { name: 'Ada', count: 3 }
const bodies = {
  json: encoders.json(user),
  msgpack: encoders.msgpack(user),
  yaml: encoders.yaml(user),
  protobuf: encodeProto('test.Sample', user),
}
type Name = keyof typeof bodies

async function statuses(app: Parameters<typeof post>[0], path: string) {
  const out: Record<string, number> = {}
  for (const name of Object.keys(bodies) as Name[]) {
    out[name] = (await post(app, path, media[name], bodies[name])).status
  }
  return out
}

describe.each(frameworks)('route formats on %s', (_name, express) => {
  it('defaults to json, msgpack and yaml, plus protobuf where a message type is bound', async () => {
    const { app } = formatApp(express, {
      routes: {
        'POST /plain': { schema: true },
        'POST /typed': { schema: true, message: 'test.Sample' },
      },
    })
    expect(await statuses(app, '/plain')).toEqual({
      json: 200,
      msgpack: 200,
      yaml: 200,
      protobuf: 415,
    })
    expect(await statuses(app, '/typed')).toEqual({
      json: 200,
      msgpack: 200,
      yaml: 200,
      protobuf: 200,
    })
  })

  it('refuses a format the route does not list with 415, before reading the body', async () => {
    const { app, seen } = formatApp(express, {
      routes: { 'POST /json': { schema: true, formats: ['json'] } },
    })
    const res = await post(app, '/json', media.msgpack, bodies.msgpack)
    expectRefusal(res, 415, 'content.type.unsupported', seen)
    expect(res.body.detail).toBe(
      'This route accepts json bodies only (`formats` is [json] on POST /json).',
    )
  })

  it('takes the global formats option as the default list', async () => {
    const { app } = formatApp(express, {
      formats: ['json', 'yaml'],
      routes: {
        'POST /plain': { schema: true },
        'POST /typed': { schema: true, message: 'test.Sample' },
        'POST /own': { schema: true, formats: ['msgpack'] },
      },
    })
    expect(await statuses(app, '/plain')).toEqual({
      json: 200,
      msgpack: 415,
      yaml: 200,
      protobuf: 415,
    })
    expect(await statuses(app, '/typed')).toEqual({
      json: 200,
      msgpack: 415,
      yaml: 200,
      protobuf: 200,
    })
    expect(await statuses(app, '/own')).toEqual({
      json: 415,
      msgpack: 200,
      yaml: 415,
      protobuf: 415,
    })
  })

  it('binds a message type on a per-route middleware too', async () => {
    const { app, seen } = buildApp(express, (a, echo) => {
      const body = safeBody({ proto: [`${protoDir}sample.proto`] })
      a.post(
        '/users',
        body.route({ schema: true, message: 'test.Sample', formats: ['protobuf'] }),
        echo,
      )
    })
    const res = await post(app, '/users', media.protobuf, bodies.protobuf)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([user])
    expectRefusal(
      await post(app, '/users', media.json, bodies.json),
      415,
      'content.type.unsupported',
    )
  })
})

describe('start-up errors', () => {
  const routes = (binding: object) => ({ routes: { 'POST /x': { schema: true, ...binding } } })

  it('refuses formats: [protobuf] without a message type', () => {
    expect(() => safeBody({ proto: protoDir, ...routes({ formats: ['protobuf'] }) })).toThrow(
      /formats names protobuf, so the binding needs a message type/,
    )
  })

  it('refuses a message type that no .proto defines', () => {
    expect(() => safeBody({ proto: protoDir, ...routes({ message: 'test.Nope' }) })).toThrow(
      'safebody: no protobuf message type "test.Nope"',
    )
    // An enum is not a message type.
    expect(() => safeBody({ proto: protoDir, ...routes({ message: 'test.Color' }) })).toThrow(
      /no protobuf message type "test.Color"/,
    )
  })

  it('refuses a message type when no .proto files are loaded', () => {
    expect(() => safeBody(routes({ message: 'test.Sample' }))).toThrow(/no .proto files are loaded/)
  })

  it('refuses .proto files that do not load', () => {
    expect(() => safeBody({ proto: brokenProtoDir })).toThrow(/cannot load the .proto files/)
    expect(() => safeBody({ proto: `${protoDir}missing/` })).toThrow(/cannot read the proto folder/)
    expect(() => safeBody({ proto: [`${protoDir}nope.proto`] })).toThrow(
      /cannot read the .proto file/,
    )
    expect(() => safeBody({ proto: [] })).toThrow(/non-empty list/)
  })

  it('refuses unknown formats and bad option values', () => {
    expect(() => safeBody(routes({ formats: ['xml'] }))).toThrow(/unknown format "xml"/)
    expect(() => safeBody({ formats: [], routes: { 'POST /x': 'y' } })).toThrow(/non-empty array/)
    expect(() => safeBody(routes({ largeIntegers: 'round' }))).toThrow(/largeIntegers must be/)
    expect(() => safeBody(routes({ message: 42 }))).toThrow(/message must be a message type name/)
    expect(() => safeBody(routes({ massage: 'test.Sample' }))).toThrow(/unknown option "massage"/)
  })
})
