import { z } from 'zod'

/**
 * The order schema of bench/payloads.ts written in zod 4, keyword for keyword: strict
 * objects (additionalProperties: false), the same formats, bounds and optional fields. It
 * measures what the guard costs in front of a validator teams already use.
 */
export const orderZod = z.strictObject({
  id: z.uuid(),
  customer: z.strictObject({
    name: z.string().min(1).max(200),
    email: z.email(),
    vip: z.boolean().optional(),
  }),
  items: z
    .array(
      z.strictObject({
        sku: z.string().regex(/^[A-Z]{3}-[0-9]{6}$/),
        name: z.string().max(500).optional(),
        qty: z.int().min(1),
        price: z.number().min(0),
        tags: z.array(z.string().max(40)).max(20).optional(),
      }),
    )
    .min(1),
  note: z.string().max(2000).nullable().optional(),
})

/** zod's own parse, as an app validates `req.body` after express.json(): the output, or null. */
export function parseOrder(value: unknown): unknown {
  const result = orderZod.safeParse(value)
  return result.success ? result.data : null
}
