// The CommonJS entry of safebody/body-parser/json: `require()` returns the parser factory
// itself, as `require('body-parser/json')` does.
import parser = require('./json.js')

export = parser.json
