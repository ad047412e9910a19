/**
 * Post the same user as JSON, MessagePack, YAML and protobuf to a running example server:
 *
 *   npm start                          # the example server, on http://localhost:3000
 *   npx tsx examples/post-formats.ts   # PORT=3939 as the server was given, or BASE_URL=...
 *
 * Each post should print 201 (or what the server answers) with the same body echoed back.
 */
import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import { dump } from 'js-yaml'
import protobuf from 'protobufjs'

const base = process.env.BASE_URL ?? `http://localhost:${process.env.PORT ?? 3000}`
const user = {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  age: 36,
  tags: ['math', 'engines'],
  role: 'ROLE_ADMIN',
}

const User = protobuf
  .loadSync(fileURLToPath(new URL('../proto/demo.proto', import.meta.url)))
  .lookupType('demo.User')

const bodies: Array<[string, Uint8Array | string]> = [
  ['application/json', JSON.stringify(user)],
  ['application/vnd.msgpack', encode(user)],
  ['application/yaml', dump(user)],
  ['application/x-protobuf', User.encode(User.fromObject(user)).finish()],
]

for (const [type, body] of bodies) {
  const res = await fetch(`${base}/users`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  })
  console.log(type.padEnd(26), res.status, await res.text())
}
