// The CommonJS entry of safebody/body-parser/raw: `require()` returns the parser factory
// itself, as `require('body-parser/raw')` does.
import parser = require('./raw.js')

export = parser.raw
