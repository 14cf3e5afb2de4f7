/**
 * The function table of the kyverno-json dialect. Registration order matters (a later
 * registration replaces an earlier one): JMESPath-community built-ins (from the library),
 * our corrections of some built-ins, kyverno-json's functions, then Kyverno's (which replace
 * the built-in `replace`, `trim`, `split`, `sum` and `items`).
 */
import type { FunctionDef, FunctionEnv } from '../types.js';
import { builtinOverrides } from './builtins.js';
import { kyvernoJsonFunctions } from './kyverno-json.js';
import { stringFunctions } from './strings.js';
import { arithmeticFunctions } from './arithmetic.js';
import { timeFunctions } from './time.js';
import { semverFunctions } from './semver.js';
import { dataFunctions } from './data.js';
import { x509Functions } from './x509.js';
import { randomFunctions } from './random.js';

export function kyvernoFunctions(env: FunctionEnv): FunctionDef[] {
  return [
    ...builtinOverrides(),
    ...kyvernoJsonFunctions(),
    ...stringFunctions(),
    ...arithmeticFunctions(),
    ...timeFunctions(env),
    ...semverFunctions(),
    ...dataFunctions(),
    ...x509Functions(),
    ...randomFunctions(),
  ];
}
