// The same user schema written with each Standard Schema library the tests run: a trimmed,
// non-empty name, an e-mail address, and an integer age that defaults to 18. Each schema
// counts its calls in a first step written with the library itself, so a test can assert
// that a refused body never reached it.
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import type { StandardSchemaV1 } from '../../src/index.js'

export interface User {
  name: string
  email: string
  age: number
}

/** How many times a schema was called. */
export interface Calls {
  n: number
}

export interface Library {
  readonly name: 'zod' | 'valibot' | 'arktype'
  /** The user schema; its output is `User`, with the name trimmed and the age defaulted. */
  user(calls: Calls): StandardSchemaV1<unknown, User>
  /** The user schema with an async check that refuses the name "taken"; null if none. */
  asyncUser: ((calls: Calls) => StandardSchemaV1<unknown, User>) | null
  /** An async check that never settles. */
  hangingUser: ((calls: Calls) => StandardSchemaV1<unknown, User>) | null
  /** The library's code for a string that is not an e-mail address. */
  readonly emailKeyword: string
}

const zodUser = z.object({
  name: z.string().trim().min(1),
  email: z.email(),
  age: z.number().int().min(0).default(18),
})
const zodCounted = (calls: Calls) =>
  z.preprocess((value) => {
    calls.n++
    return value
  }, zodUser)

const valibotUser = v.object({
  name: v.pipe(v.string(), v.trim(), v.minLength(1)),
  email: v.pipe(v.string(), v.email()),
  age: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 18),
})
const valibotCounted = (calls: Calls) =>
  v.pipe(
    v.unknown(),
    v.transform((value) => {
      calls.n++
      return value
    }),
    valibotUser,
  )

const arkUser = type({
  name: type('string.trim').to('string > 0'),
  email: 'string.email',
  age: 'number.integer >= 0 = 18',
})

export const libraries: readonly Library[] = [
  {
    name: 'zod',
    user: zodCounted,
    asyncUser: (calls) =>
      zodCounted(calls).refine(async (user) => user.name !== 'taken', {
        message: 'name is taken',
        path: ['name'],
      }),
    hangingUser: (calls) => zodCounted(calls).refine(() => new Promise<boolean>(() => {})),
    emailKeyword: 'invalid_format',
  },
  {
    name: 'valibot',
    user: valibotCounted,
    asyncUser: (calls) =>
      v.pipeAsync(
        valibotCounted(calls),
        v.checkAsync(async (user) => user.name !== 'taken', 'name is taken'),
      ),
    hangingUser: (calls) =>
      v.pipeAsync(
        valibotCounted(calls),
        v.checkAsync(() => new Promise<boolean>(() => {})),
      ),
    emailKeyword: 'email',
  },
  {
    name: 'arktype',
    user: (calls) =>
      type('unknown').pipe((value) => {
        calls.n++
        return value
      }, arkUser),
    // arktype validates synchronously only.
    asyncUser: null,
    hangingUser: null,
    emailKeyword: 'pattern',
  },
]
