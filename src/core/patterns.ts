import type { Options as AjvOptions } from 'ajv'
import { isSafePattern } from 'redos-detector'

/**
 * What to do with a schema pattern whose matching time can grow faster than the string
 * (catastrophic backtracking, `^(a+)+$`): `'refuse'` to start (the default), `'allow'` every
 * one (the risk accepted, nothing analysed), or the exact sources reviewed and accepted.
 */
export type UnsafePatterns = 'refuse' | 'allow' | readonly string[]

/**
 * A regular-expression engine for schema patterns, as ajv's `code.regExp` takes it: called
 * with the source and flags, it returns something with `test`. RE2 (`import RE2 from 're2'`)
 * matches in linear time whatever the pattern.
 */
export type RegExpEngine = (source: string, flags: string) => { test(input: string): boolean }

/**
 * A precise pattern analyser to use instead of the default one: recheck's `checkSync`
 * (`import { checkSync } from 'recheck'`), an optional peer. It proves a pattern linear or
 * finds an attack string, where the default (redos-detector) refuses every pattern that can
 * backtrack at all. Typed here by the part of recheck's API safebody calls.
 */
export type PatternChecker = (
  source: string,
  flags: string,
  params: { timeout: number; randomSeed: number },
) => PatternDiagnostics

/** What a {@link PatternChecker} says of a pattern (recheck's `Diagnostics`, the fields read). */
export type PatternDiagnostics =
  | { readonly status: 'safe' }
  | {
      readonly status: 'vulnerable'
      readonly complexity:
        { readonly type: 'exponential' } | { readonly type: 'polynomial'; readonly degree: number }
      readonly attack: { readonly pattern: string }
    }
  | { readonly status: 'unknown'; readonly error: { readonly kind: string } }

/** How the registry's ajv builds patterns and formats: checked at start-up, or under an engine. */
export interface PatternPolicy {
  /** ajv's `code.regExp`: builds each `pattern` and `patternProperties` key as ajv compiles it. */
  readonly regExp: AjvRegExpEngine
  /** The `formats` option with every regular expression checked, or moved to the engine. */
  readonly formats: (formats: FormatOptions | undefined) => FormatOptions | undefined
}

type FormatOptions = NonNullable<AjvOptions['formats']>
type AjvRegExpEngine = NonNullable<NonNullable<AjvOptions['code']>['regExp']>

// Why each pattern was refused ('' when it was not), by analyser, flags and source: the
// analysis is pure, and two ajv instances (and every safeBody() of a process) compile the
// same patterns.
const verdicts = new Map<unknown, Map<string, string>>()
// A pattern the analyser cannot settle in this time is refused as if unsafe.
const ANALYSIS_TIMEOUT = 2000

/** Resolve `ajv.unsafePatterns`, `ajv.patternChecker` and `ajv.regExp` once, at start-up. */
export function patternPolicy(unsafe: unknown, engine: unknown, checker?: unknown): PatternPolicy {
  if (checker !== undefined && typeof checker !== 'function') {
    throw new TypeError("safebody: ajv.patternChecker must be recheck's checkSync")
  }
  if (engine !== undefined) {
    if (typeof engine !== 'function') {
      throw new TypeError('safebody: ajv.regExp must be a RegExp-like constructor, such as RE2')
    }
    if (unsafe !== undefined) {
      throw new TypeError(
        'safebody: ajv.regExp runs every pattern in its engine: give it or ajv.unsafePatterns, not both',
      )
    }
    return underEngine(engine as RegExpEngine)
  }
  const accepted = acceptedPatterns(unsafe ?? 'refuse')
  const checked = (source: string, flags: string, where: string) => {
    if (accepted !== true && !accepted.has(source)) {
      checkPattern(source, flags, where, checker as PatternChecker | undefined)
    }
    return new RegExp(source, flags)
  }
  return {
    // What ajv compiles is a plain RegExp, as without this option.
    regExp: ajvEngine((source, flags) => checked(source, flags, 'pattern'), 'new RegExp'),
    formats: (formats) => {
      if (formats === undefined || accepted === true) return formats
      for (const [name, format] of Object.entries(formats)) {
        const rx = formatRegExp(format)
        if (rx !== undefined) checked(rx.source, rx.flags, `ajv.formats.${name}`)
      }
      return formats
    },
  }
}

function acceptedPatterns(unsafe: unknown): ReadonlySet<string> | true {
  if (unsafe === 'allow') return true
  if (unsafe === 'refuse') return new Set()
  if (Array.isArray(unsafe) && unsafe.every((source) => typeof source === 'string')) {
    return new Set(unsafe as string[])
  }
  throw new TypeError(
    "safebody: ajv.unsafePatterns must be 'refuse', 'allow' or a list of pattern sources",
  )
}

/** Every pattern and format built by `engine`; one it cannot build is refused at start-up. */
function underEngine(engine: RegExpEngine): PatternPolicy {
  const build = (source: string, flags: string, where: string) => {
    try {
      const compiled = engine(source, flags)
      // ajv keys its compiled patterns by their String(): an engine whose objects print the
      // same (a plain { test }) would have every pattern run as the first one compiled.
      const name = `/${source}/${flags}`
      if (String(compiled) === name) return compiled
      return { test: (input: string) => compiled.test(input), toString: () => name }
    } catch (cause) {
      throw new Error(
        `${where} "${source}" is not supported by ajv.regExp (${(cause as Error).message}); rewrite it without lookaround or backreferences`,
        { cause },
      )
    }
  }
  return {
    regExp: ajvEngine((source, flags) => build(source, flags, 'pattern'), 'ajv.regExp'),
    formats: (formats) => {
      if (formats === undefined) return formats
      const moved: Record<string, FormatOptions[string]> = {}
      for (const [name, format] of Object.entries(formats)) {
        const rx = formatRegExp(format)
        if (rx === undefined) {
          moved[name] = format
          continue
        }
        const compiled = build(rx.source, rx.flags, `ajv.formats.${name}`)
        const validate = (input: string) => compiled.test(input)
        // A bare regular expression, or the `validate` of a format definition.
        moved[name] = (isFormatDefinition(format) ? { ...format, validate } : validate) as never
      }
      return moved
    },
  }
}

/** ajv's engine type: the function, and the code standalone output would call (unused here). */
function ajvEngine(build: RegExpEngine, code: string): AjvRegExpEngine {
  return Object.assign(build as AjvRegExpEngine, { code })
}

/** A format's regular expression: a RegExp or a source string, bare or as `validate`. */
function formatRegExp(format: unknown): RegExp | undefined {
  const rx = isFormatDefinition(format) ? format.validate : format
  // ajv builds a string format with `new RegExp(source)`: no flags.
  if (typeof rx === 'string') return new RegExp(rx)
  return rx instanceof RegExp ? rx : undefined
}

function isFormatDefinition(format: unknown): format is { validate: unknown } {
  return (
    typeof format === 'object' &&
    format !== null &&
    !(format instanceof RegExp) &&
    'validate' in format
  )
}

/** Refuse a pattern whose matching time can grow faster than linearly, naming it and why. */
function checkPattern(
  source: string,
  flags: string,
  where: string,
  checker: PatternChecker | undefined,
): void {
  let seen = verdicts.get(checker)
  if (seen === undefined) verdicts.set(checker, (seen = new Map()))
  const key = `${flags}/${source}`
  let why = seen.get(key)
  if (why === undefined) {
    why = checker === undefined ? backtracking(source, flags) : recheck(checker, source, flags)
    seen.set(key, why)
  }
  if (why === '') return
  throw new Error(
    `${where} "${source}": ${why}. Rewrite it, run patterns in a linear-time engine (ajv: { regExp }), ${checker === undefined ? "check it precisely (ajv: { patternChecker: checkSync } from 'recheck'), " : ''}or accept the risk (ajv: { unsafePatterns: [${JSON.stringify(source)}] } or 'allow')`,
  )
}

/**
 * The default analysis (redos-detector): a pattern is accepted only if no input can make the
 * engine backtrack, the conservative reading; some linear patterns with a repeated group
 * (`^([a-z]+\.)+[a-z]+$`) are refused with it, which recheck settles precisely.
 */
function backtracking(source: string, flags: string): string {
  const verdict = isSafePattern(source, {
    unicode: flags.includes('u') || flags.includes('v'),
    caseInsensitive: flags.includes('i'),
    dotAll: flags.includes('s'),
    multiLine: flags.includes('m'),
    timeout: ANALYSIS_TIMEOUT,
  })
  if (verdict.safe) return ''
  return verdict.error === 'hitMaxScore'
    ? `an input can make it backtrack, so its matching time can grow faster than the string's length (redos-detector)`
    : `redos-detector could not show within ${ANALYSIS_TIMEOUT} ms that it cannot backtrack`
}

/**
 * recheck's pure-JavaScript checker, in this thread. Its synchronous API otherwise starts a
 * worker that spawns recheck's native or Java agent; the variable that selects the backend is
 * read during the call and put back before anything else can run.
 */
function recheck(checkSync: PatternChecker, source: string, flags: string): string {
  const saved = process.env.RECHECK_SYNC_BACKEND
  process.env.RECHECK_SYNC_BACKEND = 'pure'
  let verdict: PatternDiagnostics
  try {
    verdict = checkSync(source, flags, { timeout: ANALYSIS_TIMEOUT, randomSeed: 0 })
  } finally {
    if (saved === undefined) delete process.env.RECHECK_SYNC_BACKEND
    else process.env.RECHECK_SYNC_BACKEND = saved
  }
  if (verdict.status === 'safe') return ''
  if (verdict.status === 'unknown') {
    return `recheck could not show its matching time to be linear (${verdict.error.kind})`
  }
  const { complexity } = verdict
  const growth =
    complexity.type === 'exponential'
      ? 'exponentially with'
      : `with the ${complexity.degree === 2 ? 'square' : complexity.degree === 3 ? 'cube' : `${complexity.degree}th power`} of`
  return `its matching time can grow ${growth} the string's length (an attack string: ${verdict.attack.pattern})`
}
