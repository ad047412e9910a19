// The CommonJS entry of safebody/body-parser/text: `require()` returns the parser factory
// itself, as `require('body-parser/text')` does.
import parser = require('./text.js')

export = parser.text
