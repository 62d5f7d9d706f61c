// One error type for all three services; each protocol module renders it in its own wire format.
// `code` is the wire code the SDK maps to a named exception (e.g. ELBv2 `TargetGroupNotFound`
// becomes TargetGroupNotFoundException), so it must match the service's model, not the class name.

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fault: 'Sender' | 'Receiver' = 'Sender'
  ) {
    super(message)
    this.name = code
  }
}

/**
 * The message AWS's request validation layer produces for a modelled constraint, e.g.
 * "1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member
 * must have value less than or equal to 100".
 */
export function constraintMessage(value: unknown, field: string, constraint: string): string {
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value)
  return `1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: Member ${constraint}`
}
