import type { Options as AjvOptions } from 'ajv'
import { checkSync, type Diagnostics, type VulnerableComplexity } from 'recheck'

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

/** How the registry's ajv builds patterns and formats: checked at start-up, or under an engine. */
export interface PatternPolicy {
  /** ajv's `code.regExp`: builds each `pattern` and `patternProperties` key as ajv compiles it. */
  readonly regExp: AjvRegExpEngine
  /** The `formats` option with every regular expression checked, or moved to the engine. */
  readonly formats: (formats: FormatOptions | undefined) => FormatOptions | undefined
}

type FormatOptions = NonNullable<AjvOptions['formats']>
type AjvRegExpEngine = NonNullable<NonNullable<AjvOptions['code']>['regExp']>

// recheck's verdicts, by flags and source: the analysis is pure, and two ajv instances (and
// every safeBody() instance of a process) compile the same patterns.
const verdicts = new Map<string, Diagnostics>()
// A pattern the analyser cannot settle in this time is refused as if unsafe.
const ANALYSIS_TIMEOUT = 2000

/** Resolve `ajv.unsafePatterns` and `ajv.regExp` once, at start-up. */
export function patternPolicy(unsafe: unknown, engine: unknown): PatternPolicy {
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
    if (accepted !== true && !accepted.has(source)) checkPattern(source, flags, where)
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
      return engine(source, flags)
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
function checkPattern(source: string, flags: string, where: string): void {
  const verdict = analyse(source, flags)
  if (verdict.status === 'safe') return
  const why =
    verdict.status === 'vulnerable'
      ? `its matching time can grow ${growth(verdict.complexity)} the string's length (an attack string: ${verdict.attack.pattern})`
      : `recheck could not show its matching time to be linear (${verdict.error.kind})`
  throw new Error(
    `${where} "${source}": ${why}. Rewrite it, run patterns in a linear-time engine (ajv: { regExp: RE2 }), or accept the risk (ajv: { unsafePatterns: [${JSON.stringify(source)}] } or 'allow')`,
  )
}

function analyse(source: string, flags: string): Diagnostics {
  const key = `${flags}/${source}`
  let verdict = verdicts.get(key)
  if (verdict === undefined) {
    verdict = checkSyncPure(source, flags)
    verdicts.set(key, verdict)
  }
  return verdict
}

/**
 * recheck's pure-JavaScript checker, in this thread. Its synchronous API otherwise starts a
 * worker that spawns recheck's native or Java agent; the variable that selects the backend is
 * read during the call and put back before anything else can run.
 */
function checkSyncPure(source: string, flags: string): Diagnostics {
  const saved = process.env.RECHECK_SYNC_BACKEND
  process.env.RECHECK_SYNC_BACKEND = 'pure'
  try {
    return checkSync(source, flags, { timeout: ANALYSIS_TIMEOUT, randomSeed: 0 })
  } finally {
    if (saved === undefined) delete process.env.RECHECK_SYNC_BACKEND
    else process.env.RECHECK_SYNC_BACKEND = saved
  }
}

function growth(complexity: VulnerableComplexity): string {
  if (complexity.type === 'exponential') return 'exponentially with'
  const { degree } = complexity
  return `with the ${degree === 2 ? 'square' : degree === 3 ? 'cube' : `${degree}th power`} of`
}
