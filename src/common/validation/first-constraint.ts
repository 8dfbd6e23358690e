/** class-validator's type checks, in the order a message should name them. */
const TYPE_CHECKS = ['isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isEnum'];

/**
 * The one message to show for a value that failed several constraints: the type check when it
 * failed ("name must be a string"), not a length or range check that a value of the wrong type
 * fails as well. `constraints` is class-validator's ValidationError.constraints.
 */
export function firstConstraintMessage(constraints: Record<string, string>): string | undefined {
  const typeCheck = TYPE_CHECKS.find((name) => name in constraints);
  return constraints[typeCheck ?? Object.keys(constraints)[0]];
}
