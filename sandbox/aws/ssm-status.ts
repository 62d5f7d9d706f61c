// How SSM rolls invocation statuses up into a command status and counters. The executor only
// moves invocations; everything the API reports about the command as a whole is derived here.

import type { Command, Invocation, InvocationStatus } from '../world.js'

const TERMINAL = new Set<InvocationStatus>([
  'Success',
  'Cancelled',
  'TimedOut',
  'Failed',
  'Undeliverable',
  'Terminated'
])

export const isTerminal = (s: InvocationStatus): boolean => TERMINAL.has(s)

const isDeliveryTimeout = (inv: Invocation): boolean => inv.status === 'TimedOut' && /deliver/i.test(inv.statusDetails)

/** ErrorCount counts Failed and Execution Timed Out (delivery timeouts are counted separately). */
const isError = (inv: Invocation): boolean =>
  inv.status === 'Failed' ||
  inv.status === 'Undeliverable' ||
  inv.status === 'Terminated' ||
  (inv.status === 'TimedOut' && !isDeliveryTimeout(inv))

/** MaxErrors as a number of invocations: "0", "5", "10%" of the target count (rounded down). */
export function allowedErrors(maxErrors: string, targets: number): number {
  const m = /^(\d+)(%?)$/.exec(maxErrors)
  if (!m) return 0
  return m[2] === '%' ? Math.floor((Number(m[1]) * targets) / 100) : Number(m[1])
}

export interface CommandSummary {
  status: 'Pending' | 'InProgress' | 'Success' | 'Cancelled' | 'Failed' | 'TimedOut' | 'Cancelling'
  statusDetails: string
  targetCount: number
  completedCount: number
  errorCount: number
  deliveryTimedOutCount: number
}

export function summarize(command: Command): CommandSummary {
  const invs = [...command.invocations.values()]
  const completed = invs.filter((i) => isTerminal(i.status))
  const errors = invs.filter(isError)
  const deliveryTimedOut = invs.filter(isDeliveryTimeout)
  const allowed = allowedErrors(command.maxErrors, invs.length)
  const counts = {
    targetCount: invs.length,
    completedCount: completed.length,
    errorCount: errors.length,
    deliveryTimedOutCount: deliveryTimedOut.length
  }
  const result = (status: CommandSummary['status'], statusDetails: string): CommandSummary => ({
    status,
    statusDetails,
    ...counts
  })

  if (invs.length === 0) return result('Success', 'Success')
  if (invs.some((i) => i.status === 'Cancelling')) return result('Cancelling', 'Cancelling')
  if (completed.length < invs.length) {
    const started = invs.some((i) => i.status !== 'Pending')
    return started ? result('InProgress', 'In Progress') : result('Pending', 'Pending')
  }
  if (invs.some((i) => i.status === 'Cancelled')) return result('Cancelled', 'Cancelled')
  if (errors.length > allowed) {
    const failed = errors.filter((i) => i.status !== 'TimedOut').length
    return failed >= errors.length - failed ? result('Failed', 'Failed') : result('TimedOut', 'Execution Timed Out')
  }
  if (invs.every((i) => i.status === 'Success')) return result('Success', 'Success')
  if (deliveryTimedOut.length > allowed) return result('TimedOut', 'Delivery Timed Out')
  return result('Failed', 'Incomplete')
}
