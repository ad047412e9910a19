// The CommonJS entry of safebody/body-parser: `require()` returns the callable itself,
// with .json, .raw, .text and .urlencoded on it, as `require('body-parser')` does. The
// named exports and a `default` are added so that `import` compiled to CommonJS works too.
import parsers = require('./index.js')

const entry = Object.assign(parsers.default, {
  formatParser: parsers.formatParser,
  default: parsers.default,
})

export = entry
