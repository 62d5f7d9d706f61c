/**
 * The one error type of the action. Its message always says what the user must do next,
 * because it is the single line they read in a failed workflow run.
 */
export class DeployError extends Error {
  override name = 'DeployError'
}

/** An input that cannot be used: names the input, the value given and what is accepted. */
export class InputError extends DeployError {
  override name = 'InputError'
  constructor(
    readonly input: string,
    readonly value: string,
    readonly accepted: string
  ) {
    super(`Input ${input}: ${JSON.stringify(truncate(value, 200))} is not valid; ${accepted}`)
  }
}

/**
 * Several inputs that cannot be used, reported together so that one run names them all: the
 * message has one line per input, each the line its InputError alone would give.
 */
export class InputErrors extends DeployError {
  override name = 'InputErrors'
  constructor(readonly errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'))
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

// Items named in an error message before "and N more".
const NAMED_IN_ERROR = 10

/** A list for an error message: the first few named, the rest counted. */
export function boundedList(items: string[]): string {
  const named = items.slice(0, NAMED_IN_ERROR).join(', ')
  return items.length > NAMED_IN_ERROR ? `${named} and ${items.length - NAMED_IN_ERROR} more` : named
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
