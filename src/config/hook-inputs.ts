// The inputs of the run-once hooks around the traffic shift (before-traffic-commands,
// contract-commands), the preview route (preview-header, preview-priority) and the override that
// lets a rollback cross a contract. Pure, like the rest of the config: validated before any call.
import { InputError } from './errors.js'

/** What the hooks and the preview route were asked to do. */
export interface HookInputs {
  /** Shell lines run once, on one new instance, after its commands and health, before any traffic. */
  beforeTrafficCommands: string[]
  /** Shell lines run once, on one new instance, after it took all traffic and the final hold passed. */
  contractCommands: string[]
  /** A rule per route that sends requests carrying `header: <version>` to the new fleet only. */
  preview?: PreviewInput
  /** A rollback may send traffic to a fleet whose data was contracted away (the user says it still works). */
  allowRollbackPastContract: boolean
}

export interface PreviewInput {
  header: string
  /** The listener rule priority the user chose; free ones are picked when not given. */
  priority?: number
}

export const HOOK_INPUT_DEFAULTS = {
  'before-traffic-commands': '',
  'contract-commands': '',
  'preview-header': '',
  'preview-priority': '',
  'allow-rollback-past-contract': 'false'
} as const

// ALB http-header conditions: a header name of at most 40 characters (letters, digits and hyphens
// here, which every real header name uses and which needs no quoting in the curl line), a value of
// at most 128 characters. The Host header cannot be matched by an http-header condition.
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/
const HEADER_VALUE_MAX = 128
const PRIORITY_MAX = 50_000

type Input = (name: string) => string

/**
 * The hook and preview inputs, or an InputError naming the first that cannot be used. `context`
 * is what the rest of the config already decided (the operation, the steps, the version).
 */
export function parseHookInputs(
  input: Input,
  context: { operation: string; strategy: string; canarySteps: number[]; version: string }
): HookInputs {
  const beforeTrafficCommands = lines(input('before-traffic-commands'))
  const contractCommands = lines(input('contract-commands'))
  const header = input('preview-header')
  const priorityText = input('preview-priority')

  if (header && (!HEADER_NAME.test(header) || header.toLowerCase() === 'host')) {
    throw new InputError(
      'preview-header',
      header,
      'accepted: an HTTP header name of 1-40 letters, digits and hyphens, not Host (e.g. X-Preview)'
    )
  }
  let priority: number | undefined
  if (priorityText) {
    if (!header) {
      throw new InputError('preview-priority', priorityText, 'give preview-header too: the priority is for its rule')
    }
    priority = Number(priorityText)
    if (!/^\d+$/.test(priorityText) || priority < 1 || priority > PRIORITY_MAX) {
      throw new InputError(
        'preview-priority',
        priorityText,
        `accepted: a listener rule priority, an integer from 1 to ${PRIORITY_MAX}, or empty to take a free one`
      )
    }
  }
  // The header's value is the version: a longer one could never be matched by the rule.
  if (header && context.operation === 'deploy' && context.version.length > HEADER_VALUE_MAX) {
    throw new InputError(
      'version',
      context.version,
      `accepted with preview-header: at most ${HEADER_VALUE_MAX} characters (the version is the header's value, and ALB compares at most that many)`
    )
  }
  // canary-steps 0 stages the new version without traffic; the all-at-once strategy ignores the
  // steps and would flip all traffic at once, the opposite of what was asked.
  const staged = context.canarySteps.length === 1 && context.canarySteps[0] === 0
  if (staged && context.operation === 'deploy' && context.strategy !== 'canary') {
    throw new InputError(
      'strategy',
      context.strategy,
      'accepted with canary-steps 0: canary (0 deploys and pauses before any traffic moves)'
    )
  }
  return {
    beforeTrafficCommands,
    contractCommands,
    preview: header ? { header, ...(priority !== undefined ? { priority } : {}) } : undefined,
    allowRollbackPastContract: bool(input, 'allow-rollback-past-contract')
  }
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '')
}

function bool(input: Input, name: string): boolean {
  const value = input(name)
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, value, 'accepted: true or false')
}
