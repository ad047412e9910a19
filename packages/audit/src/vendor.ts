/**
 * What is not the application's own code: vendored libraries, minified or generated bundles,
 * and tests. Paths are relative to the scanned directory, with `/` separators.
 */

// Folders that hold someone else's code by convention.
const VENDOR_FOLDERS = new Set([
  'vendor',
  'vendors',
  'bower_components',
  'jspm_packages',
  'third_party',
  'third-party',
  'thirdparty',
])
// jquery.min.js, raphael-min.js, app.bundle.js, 3.chunk.js: build output, not source.
const BUNDLE_NAME = /[.-]min\.[cm]?js$|\.(bundle|chunk)\.[cm]?js$/
// Folders and file names that hold tests.
const TEST_FOLDERS = new Set([
  'test',
  'tests',
  '__tests__',
  '__mocks__',
  'spec',
  'specs',
  'e2e',
  'cypress',
])
const TEST_NAME = /[._](test|spec)\.[cm]?[jt]sx?$/
// A comment line near the top that says a tool wrote the file.
const GENERATED_HEADER = /^\s*(\/\/|\/\*|\*).*(@generated\b|\bDO NOT EDIT\b|\bauto-?generated\b)/im

/** True for a folder name whose contents are vendored code. */
export function isVendorFolder(name: string): boolean {
  return VENDOR_FOLDERS.has(name.toLowerCase())
}

/** True for a file name that says it is a minified or bundled build. */
export function isBundleName(name: string): boolean {
  return BUNDLE_NAME.test(name)
}

/** True for a path (relative to the scanned directory) inside a test folder or named as a test. */
export function isTestPath(relative: string): boolean {
  const parts = relative.split('/')
  const name = parts.pop() ?? ''
  return TEST_NAME.test(name) || parts.some((part) => TEST_FOLDERS.has(part))
}

/**
 * Why a file's text shows it is not hand-written source, or undefined: minified (most of the
 * text on lines of 500+ characters, 200+ on average) or generated (a header in the first
 * 1 KB says so). Reads the text once, only as far as it needs.
 */
export function machineWritten(text: string): 'minified' | 'generated' | undefined {
  if (GENERATED_HEADER.test(text.slice(0, 1024))) return 'generated'
  if (text.length < 512) return undefined
  let lines = 1
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++
  if (text.length / lines < 200) return undefined
  let long = 0
  for (const line of text.split('\n')) if (line.length >= 500) long += line.length
  return long / text.length >= 0.5 ? 'minified' : undefined
}
