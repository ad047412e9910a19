import type { Rule } from '../types.js'
import { bodyParserWithoutSafebody } from './body-parser-without-safebody.js'
import { codeEval } from './code-eval.js'
import { commandInjection } from './command-injection.js'
import { dynamicRequire } from './dynamic-require.js'
import { expressionEvaluator } from './expression-evaluator.js'
import { prototypePollution } from './prototype-pollution.js'
import { timerString } from './timer-string.js'
import { unsafeDeserializer } from './unsafe-deserializer.js'
import { unvalidatedBody } from './unvalidated-body.js'
import { v8Deserialize } from './v8-deserialize.js'
import { vmCode } from './vm-code.js'
import { xmlExternalEntities } from './xml-external-entities.js'
import { yamlUnsafeLoad } from './yaml-unsafe-load.js'

/** The rule catalogue, in the order README.md documents it. */
export const RULES: readonly Rule[] = [
  codeEval,
  vmCode,
  expressionEvaluator,
  timerString,
  unsafeDeserializer,
  yamlUnsafeLoad,
  v8Deserialize,
  xmlExternalEntities,
  prototypePollution,
  unvalidatedBody,
  bodyParserWithoutSafebody,
  commandInjection,
  dynamicRequire,
]
