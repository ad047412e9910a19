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
  /** Its size as JSON, for labels; other formats encode the same value. */
  readonly jsonBytes: number
}

function payload(name: string, target: number): Payload {
  const value = makeOrder(target)
  return { name, value, jsonBytes: Buffer.byteLength(JSON.stringify(value)) }
}

/** The three payloads of the micro and HTTP benchmarks. */
export function payloads(): Payload[] {
  return [payload('small', 300), payload('medium', 10 * 1024), payload('large', 1024 * 1024)]
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
