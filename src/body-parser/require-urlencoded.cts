// The CommonJS entry of safebody/body-parser/urlencoded: `require()` returns the parser factory
// itself, as `require('body-parser/urlencoded')` does.
import parser = require('./urlencoded.js')

export = parser.urlencoded
