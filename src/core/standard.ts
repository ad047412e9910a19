import {
  bodyError,
  clientKey,
  clientPointer,
  maxIssues,
  maxKeyLength,
  shortened,
  type ValidationIssue,
} from '../errors.js'
import createError from 'http-errors'
import { prototypeClean } from './guard.js'
import { Later } from './later.js'

/**
 * A Standard Schema (https://standardschema.dev), version 1: what zod 4, valibot, arktype and
 * others implement. The interface is copied from `@standard-schema/spec`, as the spec invites,
 * so that safebody's published types need no package for it; a type test holds the copy to
 * the spec. The spec's namespace members are flat names here.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>
}

/** The spec's `StandardSchemaV1.Props`. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1
  readonly vendor: string
  readonly validate: (
    value: unknown,
    options?: { readonly libraryOptions?: Record<string, unknown> | undefined } | undefined,
  ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
  readonly types?: { readonly input: Input; readonly output: Output } | undefined
}

/** The spec's `StandardSchemaV1.Result`: a value, or issues. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> }

/** The spec's `StandardSchemaV1.Issue`. */
export interface StandardSchemaIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** The spec's `StandardSchemaV1.InferOutput`: what a schema hands on, after its transforms. */
export type StandardSchemaOutput<Schema extends StandardSchemaV1> = NonNullable<
  Schema['~standard']['types']
>['output']

/** The type a Standard Schema accepts (its `types.input`), before transforms and defaults. */
export type StandardSchemaInput<Schema extends StandardSchemaV1> = NonNullable<
  Schema['~standard']['types']
>['input']

/**
 * True for a Standard Schema: an object or function (arktype's types are callable) with a
 * `~standard` property. Any version counts here, so that `standardValidator` can refuse one
 * it does not read instead of taking it for a JSON Schema.
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    '~standard' in value
  )
}

/** Longest message a client sees from a library (custom messages may quote anything). */
export const maxMessageLength = 200

/**
 * A Standard Schema as the validate stage: the schema's output (its transforms and defaults
 * applied), or a promise of it for an async schema; issues become a 422 like ajv's errors.
 * Throws at start-up for a schema of another version.
 */
// Returns route.ts's BodyValidator (the value to hand on, or a Later of it), written out so
// that this module does not import the one that imports it.
export function standardValidator(
  schema: StandardSchemaV1,
  name: string,
): (value: unknown) => unknown {
  const props = standardProps(schema, name)
  const keyword = keywordOf(props.vendor)
  // Reads the result: every property read may run the validator's code (a getter), so what
  // it throws is its fault too (`validatorThrew`); the verdict is acted on outside.
  const verdict = (result: StandardSchemaResult<unknown>, input: unknown): Verdict => {
    // Anything but a result the spec describes is the validator's fault, never a pass: the
    // request is refused with 500 (not exposed), as for a validator that throws.
    if (typeof result !== 'object' || result === null) return { broken: 'no result' }
    const { issues } = result
    if (issues === undefined) {
      if (!('value' in result) || Array.isArray(result)) return { broken: 'no value' }
      return { value: result.value }
    }
    if (!Array.isArray(issues)) return { broken: '`issues` that is not an array' }
    if (!issues.every((issue) => typeof issue === 'object' && issue !== null)) {
      return { broken: 'an issue that is not an object' }
    }
    try {
      return { errors: issues.slice(0, maxIssues).map((issue) => toIssue(issue, input, keyword)) }
    } finally {
      forgetSpellings()
    }
  }
  const outcome = (result: StandardSchemaResult<unknown>, input: unknown): unknown => {
    let found: Verdict
    try {
      found = verdict(result, input)
    } catch (cause) {
      throw validatorThrew(name, cause)
    }
    if ('broken' in found) throw brokenResult(name, found.broken)
    if ('errors' in found) {
      throw bodyError('entity.validation.failed', undefined, { errors: found.errors })
    }
    return found.value
  }
  return (value) => {
    // zod and valibot read inherited properties: while Object.prototype holds an enumerable
    // one (polluted elsewhere in the process), they get a copy whose objects inherit nothing.
    const input = prototypeClean() ? value : inheritingNothing(value)
    let result: ReturnType<StandardSchemaProps['validate']>
    try {
      // Called as a method: `this` is the props object, as the library expects.
      result = props.validate(input)
    } catch (cause) {
      throw validatorThrew(name, cause)
    }
    let pending: PromiseLike<StandardSchemaResult<unknown>> | undefined
    try {
      // Reading `then` may run the validator's code as well.
      if (isThenable(result)) pending = result
    } catch (cause) {
      throw validatorThrew(name, cause)
    }
    if (pending === undefined) return outcome(result as StandardSchemaResult<unknown>, value)
    // The spec's async form is a promise of the result: awaited, the output boxed (Later).
    return new Later(
      Promise.resolve(pending).then(
        (settled) => ({ value: outcome(settled, value) }),
        (cause: unknown) => {
          throw validatorThrew(name, cause)
        },
      ),
    )
  }
}

/** What a validator's result says: a value to hand on, issues, or a broken contract. */
type Verdict =
  | { readonly value: unknown }
  | { readonly errors: ReturnType<typeof toIssue>[] }
  | { readonly broken: string }

/**
 * What a validator throws (or its promise rejects with) is a server fault, whatever it looks
 * like: an http-errors 400 from a transform's lookup, or an object shaped as safebody's own
 * refusal, would otherwise be answered as the client's fault, or let by in report mode. The
 * thrown value is kept as `cause`, for logs.
 */
function validatorThrew(name: string, cause: unknown): Error {
  return createError(500, `safebody: the Standard Schema validator of schema "${name}" threw`, {
    expose: false,
    cause,
  })
}

/**
 * A Standard Schema's props, read once (valibot's `~standard` is a getter that builds the
 * object on every access), after checking at start-up that safebody can call it: version 1,
 * with a `validate` function. Throws naming the schema.
 */
export function standardProps(schema: StandardSchemaV1, name: string): StandardSchemaProps {
  const props: unknown = schema['~standard']
  const { version, validate } = (props ?? {}) as { version?: unknown; validate?: unknown }
  if (version !== 1) {
    throw new Error(
      `safebody: schema "${name}" is a Standard Schema of version ${String(version)}; safebody reads version 1`,
    )
  }
  if (typeof validate !== 'function') {
    throw new Error(
      `safebody: schema "${name}" is a Standard Schema without a validate function (its ~standard.validate is ${typeof validate})`,
    )
  }
  return props as StandardSchemaProps
}

function isPropertyKey(key: unknown): key is PropertyKey {
  return typeof key === 'string' || typeof key === 'number' || typeof key === 'symbol'
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function brokenResult(name: string, what: string): Error {
  return createError(
    500,
    `safebody: the Standard Schema validator of schema "${name}" returned ${what}`,
    { expose: false },
  )
}

/** A copy of a decoded value whose objects have a null prototype; arrays stay arrays. */
function inheritingNothing(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(inheritingNothing)
  const copy = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(value)) {
    copy[key] = inheritingNothing((value as Record<string, unknown>)[key])
  }
  return copy
}

type IssueKeyword = (issue: StandardSchemaIssue) => string

/**
 * The library's own code for an issue, where it has one: zod and arktype put it in `code`,
 * valibot in `type` (`min_length`, `email`); else `standard`.
 */
function keywordOf(vendor: string): IssueKeyword {
  const field = vendor === 'valibot' ? 'type' : 'code'
  return (issue) => {
    const code = (issue as unknown as Record<string, unknown>)[field]
    // A library's codes are short names; a validator's own may be anything.
    return typeof code === 'string' && code !== '' ? shortened(code, maxKeyLength) : 'standard'
  }
}

function toIssue(issue: StandardSchemaIssue, input: unknown, keyword: IssueKeyword) {
  // Array.from, not path.map: arktype's path is an Array subclass whose constructor takes
  // the segments, so its map would build `[0]` for an empty path.
  const keys = Array.from(issue.path ?? [], (segment) =>
    typeof segment === 'object' && segment !== null ? segment.key : segment,
  )
  const at = inBody(input, keys, missingReported(issue))
  return {
    // Only as deep as the body goes: keys inside a value the schema parsed are the client's.
    instancePath: clientPointer(jsonPointer(keys.slice(0, at.depth))),
    keyword: keyword(issue),
    message: clientMessage(String(issue.message), issue, input, keys, at),
  } satisfies ValidationIssue
}

/** Where an issue's path leads in the body as decoded. */
interface PathInBody {
  /** How many of the path's keys name something in the body, or a key it left out. */
  readonly depth: number
  /** The value the whole path leads to, when the body has it. */
  readonly value: unknown
}

/**
 * How far an issue's path lies in the body, by own properties only. A key the body left out
 * is the schema's name (a required key) and counts, but nothing past it; nor anything past a
 * value that is not an object: those keys are inside a value the schema's own transforms
 * built (a JSON string it parsed), so they are the client's data, not names.
 */
function inBody(input: unknown, keys: readonly PropertyKey[], missing = true): PathInBody {
  let value = input
  let depth = 0
  for (const key of keys) {
    if (typeof value !== 'object' || value === null) return { depth, value: undefined }
    if (!Object.hasOwn(value, key)) {
      // The schema's own name only as the last key, of an object (not an array), for an issue
      // about a value that is not there: a transform may key a record by the client's values.
      const named = missing && depth === keys.length - 1 && !Array.isArray(value)
      return { depth: named ? depth + 1 : depth, value: undefined }
    }
    value = (value as Record<PropertyKey, unknown>)[key]
    depth++
  }
  return { depth: keys.length, value }
}

/**
 * False when the library says it checked a value at the path (valibot's `input`, arktype's
 * `data`), so the key held something there; arktype's `data` for a missing key is the object
 * it is missing from.
 */
function missingReported(issue: StandardSchemaIssue): boolean {
  const { input, data } = issue as { input?: unknown; data?: unknown }
  const absent = (checked: unknown) => checked === undefined || typeof checked === 'object'
  return absent(input) && absent(data)
}

/** RFC 6901: `/items/0/sku`, with `~` and `/` in a key escaped. */
export function jsonPointer(keys: readonly PropertyKey[]): string {
  let pointer = ''
  for (const key of keys) {
    const text = typeof key === 'symbol' ? (key.description ?? '') : String(key)
    pointer += '/' + text.replace(/~/g, '~0').replace(/\//g, '~1')
  }
  return pointer
}

/**
 * The library's message, without a copy of the input. valibot, zod and arktype quote the value
 * they refused after `received` or `(was`, and a JavaScript error's text may quote it too
 * (arktype's `string.json.parse`: `(SyntaxError: Unexpected token … is not valid JSON)`):
 * that tail is masked (`…`) whatever it holds, since after the schema's own transforms
 * (valibot's `trim`, arktype's `parse`) it need not be the value as sent. It stays when the
 * whole tail is a type name (`received number`, `(was a string)`, arktype's `(was missing)`),
 * a count of the value's items or characters (`Expected >=5 but received 3`, `(was 3)`), or a
 * key the issue's path names (valibot's `Invalid key: ... received "extra"`), and is not the
 * value itself. The value the issue points at is also cut out wherever else the message
 * quotes it. Keys are names and stay, but one longer than `maxKeyLength` (zod's
 * `Unrecognized key: "..."`, arktype's `... must be removed`) is shortened, and a key the body
 * does not have where the issue says (inside a JSON string the schema parsed) is masked. Then
 * the message is capped.
 */
function clientMessage(
  message: string,
  issue: StandardSchemaIssue,
  input: unknown,
  keys: readonly PropertyKey[],
  at: PathInBody,
): string {
  const { value } = at
  let text = maskQuotedValue(message, issue, value, at.depth === keys.length ? keys : [])
  if (typeof value === 'string' && value !== '') {
    for (const quoted of [`"${value}"`, JSON.stringify(value)])
      text = text.split(quoted).join('"…"')
  }
  text = maskBareValue(text, issue, value, keys[keys.length - 1])
  text = maskKeys(text, keysNotInBody(issue, input, keys, at))
  return shortened(shortenKeys(text, longKeys(issue, keys, value)), maxMessageLength)
}

/**
 * `text` with the string an issue points at cut out where it stands (a custom message's
 * `${issue.input}`), inside a word or not: trimmed, in lower and upper case, composed and
 * decomposed (NFC, NFD), and as the library checked it (valibot's `input`, arktype's `data`,
 * after the schema's transforms; zod reports none). The libraries print what the schema allows
 * as quoted literals (`expected one of "todo"|"in_progress"`, `must start with "https://"`),
 * so inside one only the value as sent as its whole text is cut (`cutUnquoted`): a value sent
 * padded, in another case, or a part of one, leaves it whole. Left too are strings of one or two
 * characters, plain words of up to 16 ASCII letters and numbers of up to 6 characters: the
 * libraries spell their type names, formats and bounds alike (`expected number`, `<100`). A
 * key is a name and stays: valibot's `input` for an unknown key's issue is the key
 * (`lastKey`).
 */
function maskBareValue(
  text: string,
  issue: StandardSchemaIssue,
  value: unknown,
  lastKey: PropertyKey | undefined,
): string {
  const { input, data } = issue as { input?: unknown; data?: unknown }
  const seen = new Set<string>()
  for (const checked of [value, input, data]) {
    if (typeof checked !== 'string' || (checked !== value && checked === lastKey)) continue
    const trimmed = checked.trim()
    // Longer than the message, it cannot be in it, in any of its spellings (NFC may shorten
    // it, but not by that much): a short built-in message costs nothing for a long value.
    if (seen.has(trimmed) || trimmed.length > 4 * text.length) continue
    seen.add(trimmed)
    for (const spelling of spellingsOf(trimmed)) {
      if (spelling.length > text.length || !cutsBare(spelling)) continue
      text = cutUnquoted(text, spelling, spelling === checked)
    }
  }
  return text
}

/**
 * A value's spellings, the last ones kept while one refusal's issues are read: its issues (up
 * to `maxIssues`) often point at one value, and its case and Unicode forms cost a pass each.
 */
function spellingsOf(trimmed: string): ReadonlySet<string> {
  if (trimmed !== lastSpelt) {
    const forms = [trimmed, trimmed.toLowerCase(), trimmed.toUpperCase()]
    forms.push(trimmed.normalize('NFC'), trimmed.normalize('NFD'))
    lastSpelt = trimmed
    lastSpellings = new Set(forms)
  }
  return lastSpellings
}

let lastSpelt = ''
let lastSpellings: ReadonlySet<string> = new Set([''])

/** Once a refusal's issues are read: the value is not kept past its request. */
function forgetSpellings(): void {
  lastSpelt = ''
  lastSpellings = new Set([''])
}

/** True for a value that is cut wherever it stands (`maskBareValue`). */
function cutsBare(spelling: string): boolean {
  return (
    spelling.length >= 3 &&
    !plainWord.test(spelling) &&
    !(spelling.length <= 6 && numberSpelling.test(spelling))
  )
}

const plainWord = /^[A-Za-z]{1,16}$/
const numberSpelling = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * `text` with each occurrence of `spelling` replaced with `…`, in one pass, but for one inside
 * a quoted literal: what a library prints of the schema, `"in_progress"`, `"https://"`. The
 * value itself as sent (`exact`), not trimmed nor another case or form of it, is cut as a
 * literal's whole text: `"in_progress "` sent to an enum leaves its option whole.
 */
function cutUnquoted(text: string, spelling: string, exact: boolean): string {
  let out = ''
  let from = 0
  // The literals, in order, found as the search reaches them.
  literal.lastIndex = 0
  let quoted = literal.exec(text)
  for (let at = text.indexOf(spelling); at !== -1;) {
    const end = at + spelling.length
    while (quoted !== null && quoted.index + quoted[0].length <= at) quoted = literal.exec(text)
    const close = quoted === null ? -1 : quoted.index + quoted[0].length - 1
    const whole = exact && quoted !== null && at === quoted.index + 1 && end === close
    if (quoted !== null && quoted.index < at && end <= close && !whole) {
      at = text.indexOf(spelling, quoted.index + quoted[0].length)
      continue
    }
    out += `${text.slice(from, at)}…`
    from = end
    at = text.indexOf(spelling, from)
  }
  return out + text.slice(from)
}

// A quoted literal as the libraries print one: its quotes not inside a word (`12"` is an inch
// mark, no opening quote) nor next to a cut (`…"`: a quote the value stood against), its text
// neither starting nor ending with a space. A stray quote cannot pair up with a later one
// around the value this way (`under 12" (got …); see "docs"`).
const literal = /(?<![\p{L}\p{N}…])"(?:[^"\s]|[^"\s][^"]*[^"\s])"(?![\p{L}\p{N}…])/gu

// Where a library starts to quote the value it refused: valibot `but received 3`, zod
// `, received number`, `Received "…"` after its `Invalid …: `;
// arktype `(was 3)`; an error's own text (`SyntaxError: …`). Only as the libraries print it, so
// that a key that spells `received` (arktype starts its message with the path) is not taken.
const quoteStart = /(?:\bbut |, |: )[Rr]eceived |\(was |\b[A-Za-z]*Error: /g
// What may follow it and stay, when it is the whole tail: a type name (with arktype's article,
// zod's NaN and Infinity) or arktype's `missing`, a count, a quoted key.
const typeName =
  /^(?:an? )?(?:string|number|bigint|boolean|symbol|object|function|undefined|null|array|Object|Array|Date|Map|Set|RegExp|Function|Uint8Array|NaN|-?Infinity|missing)/
const count = /^\d{1,16}/
const quotedName = /^"([^"]*)"/

function maskQuotedValue(
  message: string,
  issue: StandardSchemaIssue,
  value: unknown,
  keys: readonly PropertyKey[],
): string {
  const lastKey = keys.length > 0 ? String(keys[keys.length - 1]) : null
  // An arktype union prints each branch's value (`b must be more than 5 (was 1)`), not the
  // issue's: a count or key of the issue's value says nothing about it, so only a type stays.
  const branches = Array.isArray((issue as { errors?: unknown }).errors)
  let facts: ValueFacts | null = null
  quoteStart.lastIndex = 0
  for (let found = quoteStart.exec(message); found !== null; found = quoteStart.exec(message)) {
    const at = quoteStart.lastIndex
    const was = found[0] === '(was '
    if (was || !found[0].endsWith('Error: ')) {
      const tail = message.slice(at)
      const kept = keptAfter(tail, value, branches ? null : lastKey, () =>
        branches ? noFacts : (facts ??= factsOf(issue, value)),
      )
      // Kept only as the whole tail: a value may start like a type name, a count or a key
      // (`"email" and the rest`).
      const rest = tail.slice(kept)
      if (kept > 0 && (was ? rest.startsWith(')') : /^\.?$/.test(rest))) {
        // The search goes on after it, never inside it (a key may spell "received").
        quoteStart.lastIndex = at + kept
        continue
      }
    }
    // The rest of the message, up to the closing parenthesis of arktype's `(was …)` or
    // `(SyntaxError: …)`: a quoted value may hold anything, quotes and parentheses included.
    const end = was || message[found.index - 1] === '(' ? message.lastIndexOf(')') : -1
    return `${message.slice(0, at)}…${end < at ? '' : message.slice(end)}`
  }
  return message
}

/**
 * How long the start of `tail` is that may stay: a type name, a count of the value, or the
 * last key of the issue's path quoted; 0 for none. A count or a key that also spells the value
 * itself (a length of 1 and the value "1", a value equal to its key) does not stay. Type names
 * are never a value's spelling: the libraries print a string value quoted.
 */
function keptAfter(
  tail: string,
  value: unknown,
  lastKey: string | null,
  facts: () => ValueFacts,
): number {
  const type = typeName.exec(tail)
  if (type !== null) return type[0].length
  const counted = count.exec(tail)?.[0]
  if (counted !== undefined) {
    const { counts, spellings } = facts()
    return counts.has(Number(counted)) && !spellings.has(counted) ? counted.length : 0
  }
  const named = quotedName.exec(tail)
  // The decoded value only: valibot's `input` for an unknown key's issue is the key itself.
  if (named !== null && named[1] === lastKey && value !== lastKey) {
    return named[0].length
  }
  return 0
}

/** Nothing known: no count stays. */
const noFacts: ValueFacts = { counts: new Set(), spellings: new Set() }

/** What a library may print about the value an issue points at without printing the value. */
interface ValueFacts {
  /** Its length in characters and in UTF-8 bytes, its items, its keys. */
  readonly counts: ReadonlySet<number>
  /** The value itself as a message would spell it, when it is a string or a number. */
  readonly spellings: ReadonlySet<string>
}

/**
 * The facts about the value an issue points at: the value as decoded, and the one the library
 * checked (valibot's `input`, arktype's `data`), which its transforms may have changed.
 */
function factsOf(issue: StandardSchemaIssue, value: unknown): ValueFacts {
  const counts = new Set<number>()
  const spellings = new Set<string>()
  const { input, data } = issue as { input?: unknown; data?: unknown }
  for (const checked of [value, input, data]) {
    if (typeof checked === 'string') {
      counts.add(checked.length).add(Buffer.byteLength(checked))
      spellings.add(checked)
    } else if (typeof checked === 'number' || typeof checked === 'bigint') {
      spellings.add(String(checked))
    } else if (Array.isArray(checked)) {
      counts.add(checked.length)
    } else if (checked instanceof Map || checked instanceof Set) {
      counts.add(checked.size)
    } else if (typeof checked === 'object' && checked !== null) {
      counts.add(Object.keys(checked).length)
    }
  }
  return { counts, spellings }
}

/**
 * Keys a message may name that the body does not have where the issue says: the path's keys
 * past `inBody`'s depth, and those zod lists for `unrecognized_keys` that the value at the
 * path does not have. At most as many as could show in `maxMessageLength`.
 */
function keysNotInBody(
  issue: StandardSchemaIssue,
  input: unknown,
  keys: readonly PropertyKey[],
  at: PathInBody,
): string[] {
  const { keys: listed, errors } = issue as { keys?: unknown; errors?: unknown }
  const { value } = at
  const found: unknown[] = keys.slice(at.depth)
  // arktype's union names each branch's deeper path in its message.
  if (Array.isArray(errors)) {
    for (const nested of errors.slice(0, maxIssues)) {
      const path = (nested as { path?: unknown } | null)?.path
      if (!Array.isArray(path)) continue
      const nestedKeys = path.filter(isPropertyKey)
      found.push(...nestedKeys.slice(inBody(input, nestedKeys).depth))
    }
  }
  if (Array.isArray(listed)) {
    for (const key of listed.slice(0, maxMessageLength)) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) found.push(key)
    }
  }
  return found
    .slice(0, maxMessageLength)
    .filter((key): key is string => typeof key === 'string' && key !== '')
}

/**
 * `text` with each of `names` masked where a library prints a key: quoted (zod, valibot,
 * arktype's `["name"]`), after a dot in a path (arktype's `d.name must be removed`), or as the
 * path the message starts with (arktype's `name must be removed`). One pass from the start
 * that stops past `maxMessageLength`: a message listing 60 000 keys costs its first 200
 * characters, and a key is never cut before it is masked.
 */
// The path arktype starts a message with, up to its first space, dot or bracket.
const leadingName = /^[^\s.[]+/

function maskKeys(text: string, names: readonly string[]): string {
  if (names.length === 0) return text
  const masked = new Set<string>()
  for (const name of names) masked.add(name).add(JSON.stringify(name).slice(1, -1))
  let out = ''
  let at = 0
  const start = leadingName.exec(text)?.[0]
  if (start !== undefined && masked.has(start)) {
    out = '…'
    at = start.length
  }
  while (at < text.length && out.length <= maxMessageLength) {
    const c = text[at]
    if (c === '"') {
      const close = closingQuote(text, at + 1)
      if (close !== -1 && masked.has(text.slice(at + 1, close))) {
        out += '"…"'
        at = close + 1
        continue
      }
    } else if (c === '.') {
      const name = /^[\w$]+/.exec(text.slice(at + 1, at + 1 + maxKeyLength * 4))?.[0]
      if (name !== undefined && masked.has(name)) {
        out += '.…'
        at += 1 + name.length
        continue
      }
    }
    out += c
    at++
  }
  return out.length > maxMessageLength ? out : out + text.slice(at)
}

/** Where the quoted text starting at `from` ends: the next quote not escaped, or -1. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i
  }
  return -1
}

/**
 * `text` with each of `long` shortened, as far as a client sees it: one pass from the start
 * that stops past `maxMessageLength`, so a message listing a thousand long keys (zod's) costs
 * no more than its first 200 characters.
 */
function shortenKeys(text: string, long: readonly string[]): string {
  if (long.length === 0) return text
  // Longest first, so that a key that starts another is not taken for it.
  const byStart = new Map<string, string[]>()
  for (const key of [...long].sort((a, b) => b.length - a.length)) {
    const start = key.slice(0, maxKeyLength)
    const list = byStart.get(start)
    if (list === undefined) byStart.set(start, [key])
    else list.push(key)
  }
  let out = ''
  let at = 0
  while (at < text.length && out.length <= maxMessageLength) {
    const key = byStart.get(text.slice(at, at + maxKeyLength))?.find((k) => text.startsWith(k, at))
    if (key === undefined) {
      out += text[at]
      at++
    } else {
      out += clientKey(key)
      at += key.length
    }
  }
  // Stopped early, it is longer than a client sees: `shortened` marks the cut.
  return out
}

/**
 * Keys longer than `maxKeyLength` a message may name: the issue's path, the keys zod lists
 * for `unrecognized_keys`, and the keys of the object the issue points at.
 */
function longKeys(
  issue: StandardSchemaIssue,
  keys: readonly PropertyKey[],
  value: unknown,
): string[] {
  const named = (issue as { keys?: unknown }).keys
  const candidates: unknown[] = [...keys, ...(Array.isArray(named) ? named : [])]
  if (typeof value === 'object' && value !== null) candidates.push(...Object.keys(value))
  const long = new Set<string>()
  for (const key of candidates) {
    if (typeof key === 'string' && key.length > maxKeyLength) long.add(key)
  }
  return [...long]
}
