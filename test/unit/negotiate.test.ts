import { describe, expect, it } from 'vitest'
import { formats } from '../../src/decoders/formats.js'
import { formatTable, negotiate } from '../../src/core/negotiate.js'
import { repeatsContentType } from '../../src/core/request.js'

const json = formatTable([formats.json])

function outcome(header: string | undefined): string {
  try {
    return negotiate(header, json).name
  } catch (err) {
    const e = err as { status: number; type: string }
    return `${e.status} ${e.type}`
  }
}

describe('negotiate', () => {
  it.each([
    ['application/json', 'json'],
    ['Application/JSON', 'json'],
    ['application/json; charset=utf-8', 'json'],
    // Another parameter whose name ends in charset, and a type that says charset.
    ['application/json; xcharset=latin1; charset=utf-8', 'json'],
    ['application/charset+json; charset=utf-8', 'json'],
    ['application/json; charset="UTF-8"', 'json'],
    ['application/json;charset=utf8', 'json'],
    ['application/merge-patch+json', 'json'],
    ['application/vnd.api+json; charset=utf-8', 'json'],
  ])('picks json for %s', (header, name) => {
    expect(outcome(header)).toBe(name)
  })

  it.each([
    [undefined, '415 content.type.unsupported'],
    ['', '415 content.type.unsupported'],
    ['text/plain', '415 content.type.unsupported'],
    ['application/jsonx', '415 content.type.unsupported'],
    ['application/json+xml', '415 content.type.unsupported'],
    ['json', '415 content.type.unsupported'],
    ['application/json; charset=', '415 charset.unsupported'],
    ['application/json; charset=latin1', '415 charset.unsupported'],
    ['application/json; charset=utf-16', '415 charset.unsupported'],
    ['application/json; charset=utf-16le', '415 charset.unsupported'],
    // Named twice: content-type keeps the first, another reader may take the last.
    ['application/json; charset=utf-8; charset=utf-16', '415 charset.unsupported'],
    ['application/json; charset=utf-16; charset=utf-8', '415 charset.unsupported'],
    ['application/json;CHARSET=utf-8;charset=utf-8', '415 charset.unsupported'],
    ['application/json; charset = utf-8; charset\t=utf-16', '415 charset.unsupported'],
    // Readers disagree on where a quoted value starts: every `charset=` counts.
    ['application/json; charset=utf-8; a=b"; charset=utf-16; c="', '415 charset.unsupported'],
    ['application/json; note="a; charset=b"; charset=utf-8', '415 charset.unsupported'],
    ['application/json; x="; charset=utf-16"', '415 charset.unsupported'],
    // RFC 2231's extended form, which some readers take for the charset.
    ["application/json; charset*=utf-8''latin1", '415 charset.unsupported'],
    ['application/json; charset*0=latin1', '415 charset.unsupported'],
    ["application/json; charset*0*=utf-8''latin1", '415 charset.unsupported'],
    ["application/json; charset=utf-8; charset*=utf-8''utf-16", '415 charset.unsupported'],
  ])('refuses %j', (header, expected) => {
    expect(outcome(header)).toBe(expected)
  })

  it('keeps answering correctly once its header cache is full', () => {
    for (let i = 0; i < 1000; i++) expect(outcome(`application/x-${i}`)).toMatch(/^415/)
    expect(outcome('application/json')).toBe('json')
    expect(outcome('application/json; charset=latin1')).toBe('415 charset.unsupported')
  })

  // A table remembers the last header it accepted: that header, sent again, and any other,
  // before or after, are answered as without the memo, in the table they were sent to.
  it('answers a header the same the second time, and every other header as before', () => {
    const json = formatTable([formats.json])
    const yaml = formatTable([formats.yaml])
    const answer = (header: string, table: typeof json) => {
      try {
        return negotiate(header, table).name
      } catch (err) {
        return `${(err as { status: number }).status} ${(err as { type: string }).type}`
      }
    }
    // Each refusal comes twice in a row: a memo written before the checks would answer the
    // second with the format.
    const headers = [
      'application/json',
      'application/json',
      'application/json; charset=latin1',
      'application/json; charset=latin1',
      'application/json; charset=utf-8; charset=utf-8',
      'application/json; charset=utf-8; charset=utf-8',
      'application/json',
      'application/yaml',
      'application/json; charset=utf-8',
      'application/json; charset=utf-8',
      'text/plain',
      'application/yaml',
      'application/json; charset=utf-8',
    ]
    for (const header of headers) {
      for (const [table, kind] of [
        [json, [formats.json]],
        [yaml, [formats.yaml]],
      ] as const) {
        const expected = answer(header, formatTable(kind))
        expect([header, answer(header, table)]).toEqual([header, expected])
      }
    }
  })
})

describe('repeatsContentType', () => {
  it.each([
    [undefined, false],
    [[], false],
    [['Content-Type', 'application/json'], false],
    [['Content-Type', 'application/json', 'X-Request-Id', 'abc', 'Content-Length', '2'], false],
    [['Content-Type', 'application/json', 'content-type', 'text/plain'], true],
    [['cOnTeNt-TyPe', 'a/b', 'X-Other', 'c', 'CONTENT-TYPE', 'a/b'], true],
    // A header's value is never taken for a name.
    [['X-Note', 'content-type', 'Content-Type', 'application/json'], false],
  ] as const)('%j: %s', (rawHeaders, repeated) => {
    expect(repeatsContentType(rawHeaders)).toBe(repeated)
  })
})
