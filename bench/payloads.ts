import { seededRandom } from './lib/random.js'
/**
 * The bodies every benchmark sends: one order schema, and orders of three sizes that differ
 * only in how many line items they carry, so one compiled validator serves them all.
 * Generated from a fixed seed: every run, and every candidate, sees the same bytes.
 */

/** The route's schema; no `$schema`, so ajv 2020-12, ajv draft-07 and fastify all take it. */
export const orderSchema = {
  type: 'object',
  required: ['id', 'customer', 'items'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid' },
    customer: {
      type: 'object',
      required: ['name', 'email'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 200 },
        email: { type: 'string', format: 'email' },
        vip: { type: 'boolean' },
      },
    },
    items: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['sku', 'qty', 'price'],
        additionalProperties: false,
        properties: {
          sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{6}$' },
          name: { type: 'string', maxLength: 500 },
          qty: { type: 'integer', minimum: 1 },
          price: { type: 'number', minimum: 0 },
          tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 40 } },
        },
      },
    },
    note: { type: ['string', 'null'], maxLength: 2000 },
  },
} as const

export type Order = {
  id: string
  customer: { name: string; email: string; vip: boolean }
  items: Array<{ sku: string; name: string; qty: number; price: number; tags: string[] }>
  note: string | null
}

const words =
  'red green blue large small steel oak linen matte gloss retro cordless spare kit'.split(' ')

/** An order whose JSON encoding is as close to `targetBytes` as whole line items allow. */
export function makeOrder(targetBytes: number, seed = 42): Order {
  const next = seededRandom(seed)
  const pick = () => words[Math.floor(next() * words.length)] as string
  const order: Order = {
    id: '6f1c2b8e-4d3a-4e5f-9a7b-1c2d3e4f5a6b',
    customer: { name: 'Ada Lovelace', email: 'ada@example.com', vip: true },
    items: [],
    note: null,
  }
  const item = () => ({
    sku: `ABC-${String(Math.floor(next() * 1e6)).padStart(6, '0')}`,
    name: `${pick()} ${pick()} ${pick()}`,
    qty: 1 + Math.floor(next() * 9),
    price: Math.round(next() * 100000) / 100,
    tags: [pick(), pick()],
  })
  order.items.push(item())
  let size = JSON.stringify(order).length
  for (;;) {
    const more = item()
    const cost = JSON.stringify(more).length + 1
    if (size + cost > targetBytes) break
    order.items.push(more)
    size += cost
  }
  // Whatever room is left goes to the note, so small payloads land on their target too.
  const room = targetBytes - size - 2
  if (room > 0 && room <= 2000) order.note = 'x'.repeat(room)
  return order
}

export interface Payload {
  readonly name: string
  readonly value: Order
  /** The JSON text to send, where it is not `JSON.stringify(value)` (the webhook's escapes). */
  readonly json?: string
  /** Its size as JSON, for labels; other formats encode the same value. */
  readonly jsonBytes: number
}

function payload(name: string, target: number): Payload {
  const value = makeOrder(target)
  return { name, value, jsonBytes: Buffer.byteLength(JSON.stringify(value)) }
}

/** The body a JSON candidate is sent: the payload's own text, or the value as JSON. */
export function jsonBody(payload: Payload): Buffer {
  return Buffer.from(payload.json ?? JSON.stringify(payload.value))
}

/** The payloads of the micro and HTTP benchmarks: three sizes and a webhook-style body. */
export function payloads(): Payload[] {
  return [
    payload('small', 300),
    payload('medium', 10 * 1024),
    payload('large', 1024 * 1024),
    webhookPayload(30 * 1024),
  ]
}

const people = ['José Müller', 'Zoë Ångström', '李小龍', 'Ada O’Brien', 'Søren Kierkegaard 🚀']
const notes = [
  'Ship <fast> & "safe" — it\'s a gift 🎁',
  'Rückgabe bis 30 Tage; Größe L',
  '配送は午前中にお願いします',
  'call +1 (555) 010-2030 before 5pm',
]

/**
 * An order as real clients send it (~30 KB): every non-ASCII character escaped as `\uXXXX`
 * (Python's json.dumps, surrogate pairs for emoji), `<`, `>`, `&`, `'` and `=` escaped as
 * Gson escapes them, e-mail addresses with digits, hex ids. Text like this is where a
 * fast path that reads string contents as syntax gives up.
 */
export function webhookPayload(target: number, seed = 7): Payload {
  const next = seededRandom(seed)
  const value = makeOrder(target, seed)
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('')
  value.customer.name = people[Math.floor(next() * people.length)] as string
  value.customer.email = `user${Math.floor(next() * 1e6)}.${hex(4)}@example.com`
  value.note = notes[Math.floor(next() * notes.length)] as string
  for (const item of value.items) {
    item.name = `${item.name} ${people[Math.floor(next() * people.length)]} ${hex(12)}`
    item.tags = [hex(8), notes[Math.floor(next() * notes.length)]?.slice(0, 20) as string]
  }
  // Trim to the target, as makeOrder does, now that names are longer.
  while (value.items.length > 1 && escapedJson(value).length > target) value.items.pop()
  const json = escapedJson(value)
  return { name: 'webhook', value, json, jsonBytes: Buffer.byteLength(json) }
}

/** JSON as Python's json.dumps (ensure_ascii) and Gson write it. */
export function escapedJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]|[<>&'=]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

/** The sizes of the scaling run. */
export function scalingPayloads(): Payload[] {
  return [
    payload('1 KB', 1024),
    payload('100 KB', 100 * 1024),
    payload('1 MB', 1024 * 1024),
    payload('10 MB', 10 * 1024 * 1024),
  ]
}
