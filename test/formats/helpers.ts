import type { Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { encode as encodeMsgpack } from '@msgpack/msgpack'
import type { Express, RequestHandler } from 'express'
import { CORE_SCHEMA, dump, mergeTag } from 'js-yaml'
import protobuf from 'protobufjs'
import request from 'supertest'
import { type SafeBodyOptions, safeBody } from '../../src/index.js'
import { buildApp, type ExpressFactory } from '../helpers/app.js'

export const protoDir = fileURLToPath(new URL('../fixtures/proto/', import.meta.url))
export const brokenProtoDir = fileURLToPath(new URL('../fixtures/proto-broken/', import.meta.url))

/** The fixture message types, loaded with protobufjs as a client would. */
export const protoRoot = protobuf.loadSync([`${protoDir}sample.proto`, `${protoDir}legacy.proto`])

export const media = {
  json: 'application/json',
  msgpack: 'application/msgpack',
  yaml: 'application/yaml',
  protobuf: 'application/x-protobuf',
} as const

const yamlSchema = CORE_SCHEMA.withTags(mergeTag)

/** Real encoders, as clients use them. */
export const encoders = {
  json: (value: unknown) => Buffer.from(JSON.stringify(value)),
  msgpack: (value: unknown) => Buffer.from(encodeMsgpack(value)),
  // The server's schema (core + merge keys), so that a literal "<<" key is quoted.
  yaml: (value: unknown) => Buffer.from(dump(value, { schema: yamlSchema })),
}

/** Encode `value` (in protobufjs's object form) as the message type `name`. */
export function encodeProto(name: string, value: Record<string, unknown>): Buffer {
  const type = protoRoot.lookupType(name)
  return Buffer.from(type.encode(type.fromObject(value)).finish())
}

/** An app with one safeBody instance and echo routes for every route key in `options`. */
export function formatApp(express: ExpressFactory, options: SafeBodyOptions) {
  return buildApp(express, (app: Express, echo: RequestHandler) => {
    app.use(safeBody({ proto: protoDir, ...options }))
    for (const key of Object.keys(options.routes ?? {})) {
      const [method, path] = key.split(' ') as [string, string]
      app[method.toLowerCase() as 'post' | 'put'](path, echo)
    }
  })
}

/** POST raw bytes with a Content-Type. */
export function post(app: Express | Server, path: string, type: string, body: Buffer | string) {
  return request(app).post(path).set('content-type', type).send(raw(type, body))
}

/** superagent JSON-serialises anything but a string under a JSON type: send text there. */
function raw(type: string, body: Buffer | string): Buffer | string {
  if (/json/.test(type)) return typeof body === 'string' ? body : body.toString('utf8')
  return typeof body === 'string' ? Buffer.from(body) : body
}

/** Structure limits small enough that bombs are cheap to build. */
export const smallLimits = { maxDepth: 16, maxNodes: 1000, maxKeys: 50, maxStringLength: 200 }

/**
 * A YAML alias bomb (billion laughs): a list of ten `leaf`s, then `levels` lines of ten
 * aliases to the line before, expanding to 10^(levels + 1) values.
 */
export function aliasBomb(levels: number, leaf: string): string {
  const lines = [`a0: &a0 [${Array(10).fill(leaf).join(', ')}]`]
  for (let i = 1; i <= levels; i++) {
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    )
  }
  return lines.join('\n')
}
