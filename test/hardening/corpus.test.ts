import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBodyError } from '../../src/errors.js'
import { type AttackCase, type CorpusFile, corpus } from '../fixtures/attacks/index.js'
import { expectPrototypesUntouched } from '../helpers/app.js'
import { type Outcome, sendCase } from './client.js'
import { availableFormats, bodyHash } from './corpus-app.js'
import { type CorpusServer, corpusServers } from './corpus-servers.js'

// Issue 9: every hostile body in test/fixtures/attacks gets its expected answer from a real
// Express app (and, issue 15, from node:http, fastify, Koa and Hono with safebody's adapters), within a bound, with the built-in prototypes untouched and the process able
// to serve a benign body intact straight after.

/** Past this, a case is a hang. Generous: the slowest cases wait for a 300 ms timeout. */
const DEADLINE_MS = 5000
const available = new Set<string>(availableFormats())
const benign = { id: 42, name: 'benign', tags: ['a', 'b'], nested: { ok: true, n: 1.5 } }

describe.each(corpusServers)('attack corpus through %s', (framework, start) => {
  let corpusApp: CorpusServer
  let port: number
  const ran = new Map<string, number>()

  beforeAll(async () => {
    corpusApp = await start()
    port = corpusApp.port
  })
  afterAll(async () => {
    await corpusApp.close()
  })

  function reset(): void {
    corpusApp.seen.bodies.length = 0
    corpusApp.seen.errors.length = 0
    corpusApp.seen.hashes.length = 0
  }

  for (const file of corpus) {
    const runnable = file.cases.filter((c) => available.has(c.format))
    if (runnable.length === 0) continue
    describe(label(file), () => {
      it.each(runnable.map((c) => [c.id, c] as const))('%s', async (_id, entry) => {
        reset()
        const outcome = await sendCase(port, entry, DEADLINE_MS)
        ran.set(label(file), (ran.get(label(file)) ?? 0) + 1)
        await expectAnswer(entry, outcome)
        expectPrototypesUntouched()
        await expectHealthy()
      })
    })
  }

  it('ran every corpus file whose format exists, and says how many', () => {
    const lines: string[] = []
    for (const file of corpus) {
      const count = ran.get(label(file)) ?? 0
      const cases = file.cases.length
      const state = available.has(file.format)
        ? `${count} of ${cases} ran`
        : `0 ran, ${cases} waiting for the ${file.format} decoder`
      lines.push(`  ${label(file)}: ${state}`)
      if (available.has(file.format))
        expect(count, `${label(file)}: no case ran`).toBeGreaterThan(0)
    }
    const total = [...ran.values()].reduce((a, b) => a + b, 0)
    console.log(`attack corpus, ${framework}: ${total} cases\n${lines.join('\n')}`)
  })

  async function expectAnswer(entry: AttackCase, outcome: Outcome): Promise<void> {
    const { seen } = corpusApp
    // fastify answers what Node's HTTP parser refuses with a JSON 400 of its own: not the app's.
    const parserAnswer = (outcome.body as { message?: unknown } | null)?.message === 'Client Error'
    const fromApp =
      /^application\/(problem\+)?json/.test(outcome.headers['content-type'] ?? '') && !parserAnswer
    if (outcome.status === null || (!fromApp && hungUp(entry))) {
      // The client hung up before an answer could reach it, or Node's HTTP parser answered
      // the broken rest of the stream first (a bare 400, Connection: close): the refusal the
      // app recorded is the answer.
      expect(hungUp(entry), `${entry.id}: the connection closed without a response`).toBe(true)
      expect(seen.bodies).toEqual([])
      if (outcome.status !== null) expect(outcome.status).toBe(entry.expectStatus)
      // A request Node's parser refuses never reaches the app.
      if (entry.expectType === undefined && outcome.status !== null) return
      const err = await recordedError()
      expect(err.status).toBe(entry.expectStatus)
      if (entry.expectType) expect(err.type).toBe(entry.expectType)
      return
    }
    expect(outcome.status, `${entry.id}: ${entry.description}`).toBe(entry.expectStatus)
    expect(outcome.ms).toBeLessThan(DEADLINE_MS)
    if (entry.expectType) {
      expect(outcome.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(outcome.body).toMatchObject({ type: entry.expectType, status: entry.expectStatus })
    }
    if (outcome.status === 200) {
      expect(seen.bodies).toHaveLength(1)
      if (entry.expectBody !== undefined) {
        expect(seen.bodies[0]).toEqual(entry.expectBody)
        expect(seen.hashes[0]).toBe(bodyHash(entry.expectBody))
      }
    } else {
      expect(seen.bodies, `${entry.id}: the handler ran for a refused body`).toEqual([])
      for (const err of seen.errors) expect(isBodyError(err), String(err)).toBe(true)
    }
  }

  async function recordedError(): Promise<{ status: number; type: string }> {
    for (let i = 0; i < 100 && corpusApp.seen.errors.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    const [err] = corpusApp.seen.errors
    if (!isBodyError(err)) throw new Error(`no catalogued refusal was recorded: ${String(err)}`)
    return err
  }

  async function expectHealthy(): Promise<void> {
    reset()
    const next: AttackCase = {
      id: 'health',
      format: 'json',
      contentType: 'application/json',
      encoding: 'identity',
      body: Buffer.from(JSON.stringify(benign)),
      description: 'a benign body after the case',
      expectStatus: 200,
    }
    const outcome = await sendCase(port, next, DEADLINE_MS)
    expect(outcome.status, 'the next benign request').toBe(200)
    expect(corpusApp.seen.bodies).toEqual([benign])
    expect(corpusApp.seen.hashes).toEqual([bodyHash(benign)])
  }
})

/** Cases whose client breaks the stream: it hangs up, or sends bytes Node cannot parse. */
function hungUp(entry: AttackCase): boolean {
  const d = entry.delivery
  return d?.kind === 'abort' || d?.kind === 'raw'
}

/** A corpus file's name in the report: text.ts holds two formats, so the format is part of it. */
function label(file: CorpusFile): string {
  return `${file.file} (${file.format})`
}
