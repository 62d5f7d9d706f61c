// Modelled-constraint checks shared by the three services. Each service passes its own
// validation code (`ValidationError` on the Query-era APIs, `ValidationException` on SSM).

import { ApiError, constraintMessage } from './errors.js'

/** AWS names the offending member in lower camel case in its messages. */
const field = (member: string): string => member.charAt(0).toLowerCase() + member.slice(1)

export function required<T>(code: string, value: T | undefined | null, member: string): T {
  if (value === undefined || value === null || value === '') {
    throw new ApiError(code, constraintMessage('null', field(member), 'must not be null'))
  }
  return value
}

export function intRange(code: string, value: number | undefined, member: string, min: number, max: number): void {
  if (value === undefined) return
  if (!Number.isInteger(value)) {
    throw new ApiError(code, `Value '${String(value)}' for parameter ${member} is not a valid integer`)
  }
  if (value < min) {
    throw new ApiError(code, constraintMessage(value, field(member), `must have value greater than or equal to ${min}`))
  }
  if (value > max) {
    throw new ApiError(code, constraintMessage(value, field(member), `must have value less than or equal to ${max}`))
  }
}

export function lengthRange(
  code: string,
  value: string | unknown[] | undefined,
  member: string,
  min: number,
  max: number
): void {
  if (value === undefined) return
  if (value.length < min) {
    throw new ApiError(
      code,
      constraintMessage(value, field(member), `must have length greater than or equal to ${min}`)
    )
  }
  if (value.length > max) {
    throw new ApiError(code, constraintMessage(value, field(member), `must have length less than or equal to ${max}`))
  }
}

export function pattern(code: string, value: string | undefined, member: string, re: RegExp): void {
  if (value === undefined) return
  if (!re.test(value)) {
    throw new ApiError(
      code,
      constraintMessage(value, field(member), `must satisfy regular expression pattern: ${re.source}`)
    )
  }
}

export function oneOf(code: string, value: string | undefined, member: string, allowed: readonly string[]): void {
  if (value === undefined) return
  if (!allowed.includes(value)) {
    throw new ApiError(
      code,
      constraintMessage(value, field(member), `must satisfy enum value set: [${allowed.join(', ')}]`)
    )
  }
}
