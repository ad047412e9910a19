import { expect } from 'vitest'
import { expectPrototypesUntouched } from './app.js'

/** A schema requiring `{ r: tag }`: whether a body passes shows which binding held it. */
export function tagged(tag: string) {
  return { type: 'object', properties: { r: { const: tag } }, required: ['r'] } as const
}

/** Keys a router may split: a static route beside a pattern that matches it, and one more. */
export const splitKeys = {
  'POST /users/me': tagged('me'),
  'POST /users/:id': tagged('id'),
  'POST /admin': tagged('admin'),
} as const

/** One request: its path, the tag its body carries, the status and the handler that ran. */
export type BindingCase = readonly [path: string, tag: string, status: number, handler: string]

/**
 * Post `{ r: tag }` to each case's path and check the status, the handler that ran (`ran`, as
 * the app's handlers record it) and the refusal's type: 415 no binding, 422 another binding.
 */
export async function expectBindings(
  cases: readonly BindingCase[],
  ran: string[],
  post: (path: string, body: string) => Promise<{ status: number; type: () => Promise<unknown> }>,
): Promise<void> {
  for (const [path, tag, status, handler] of cases) {
    ran.length = 0
    const res = await post(path, JSON.stringify({ r: tag }))
    expect([path, tag, res.status, ran.join()]).toEqual([path, tag, status, handler])
    if (status === 415) expect(await res.type()).toBe('route.schema.missing')
    if (status === 422) expect(await res.type()).toBe('entity.validation.failed')
  }
  expectPrototypesUntouched()
}
