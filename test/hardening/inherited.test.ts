import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { expectPrototypesUntouched } from '../helpers/app.js'

// A property that something else in the process defined on Object.prototype, enumerable or
// not, must never satisfy `required`, `dependentRequired`, an `if` on presence or a
// discriminator. The child process defines two non-enumerable ones after safeBody() started
// and sends `{ name: 'x' }` in every format through real Express 5 and 4 apps.
const child = fileURLToPath(new URL('../fixtures/inherited/child.ts', import.meta.url))

interface Result {
  framework: string
  id: string
  format: string
  status: number
  type: string
  inherited: boolean
}

describe('an inherited non-enumerable property never satisfies presence', () => {
  const results = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8' }),
  ) as Result[]

  it('covers 4 keywords and 3 kinds of $ref x 5 formats x 2 Express majors, with the property in effect', () => {
    expect(results).toHaveLength(70)
    expect(results.every((r) => r.inherited)).toBe(true)
  })

  it.each([
    'required',
    'dependentRequired',
    'ifPresence',
    'discriminator',
    'refByName',
    'refById',
    'refLocal',
  ])('%s: 422 entity.validation.failed in every format', (id) => {
    for (const r of results.filter((x) => x.id === id)) {
      expect({ ...r, inherited: undefined }).toEqual({
        ...r,
        inherited: undefined,
        status: 422,
        type: 'entity.validation.failed',
      })
    }
    expectPrototypesUntouched()
  })
})
