// SSM Run Command on aws-sdk-client-mock, for the command runner's unit tests: a test says what
// each instance's invocation shows at each poll round, and the fake answers SendCommand,
// ListCommands (status and counts rolled up from those invocations, the time filters applied,
// paginated), ListCommandInvocations, GetCommandInvocation and CancelCommand the way SSM does.
// Every status call is recorded with the round it fell in (the number of sleeps before it).
import {
  CancelCommandCommand,
  type Command,
  type CommandFilter,
  type CommandInvocation,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandInput,
  type GetCommandInvocationCommandOutput,
  InvalidCommandId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  type ListCommandInvocationsCommandInput,
  ListCommandsCommand,
  type ListCommandsCommandInput,
  SendCommandCommand,
  type SendCommandCommandInput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type SSMClientResolvedConfig
} from '@aws-sdk/client-ssm'
import type { AwsStub } from 'aws-sdk-client-mock'
import type { Clock } from '../../src/runtime/clock.js'

export type Status = Pick<CommandInvocation, 'Status' | 'StatusDetails'> | undefined

export const success: Status = { Status: 'Success', StatusDetails: 'Success' }
export const failed: Status = { Status: 'Failed', StatusDetails: 'Failed' }
export const inProgress: Status = { Status: 'InProgress', StatusDetails: 'InProgress' }
export const pending: Status = { Status: 'Pending', StatusDetails: 'Pending' }

/** A clock whose sleep advances time at once, remembering every sleep. */
export function fakeClock(start = 1_700_000_000_000): Clock & { sleeps: number[] } {
  let t = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => t,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted()
      sleeps.push(ms)
      t += ms
    }
  }
}

export interface StatusCall {
  operation: 'ListCommands' | 'ListCommandInvocations' | 'GetCommandInvocation'
  /** Sleeps before the call: calls with the same number fell in the same poll round. */
  round: number
  input: ListCommandsCommandInput | ListCommandInvocationsCommandInput | GetCommandInvocationCommandInput
}

export interface FakeRunCommandOptions {
  /** GetCommandInvocation's answer for an instance (output, exit code, times). */
  output?: (instanceId: string) => Partial<GetCommandInvocationCommandOutput>
  /** Page size of the invocation listing (SSM's is up to 50). */
  invocationPageSize?: number
  /** Page size of ListCommands (SSM's is up to 50). */
  commandPageSize?: number
  /** Other commands of the account, requested at the same moment as ours, listed before them... */
  foreignCommands?: number
  /** ...and after them. */
  foreignAfter?: number
  /** Overrides ListCommands' roll-up of a command in a round (what SSM's counts say). */
  commandOverride?: (commandIndex: number, round: number) => Partial<Command> | undefined
  /** Called on each invocation listing; may throw what SSM would. */
  onListInvocations?: (commandId: string, round: number) => void
  /** Called on each ListCommands call that starts a round. */
  onRound?: (round: number) => void
  /** The invocation listing lags ListCommands by this many rounds (eventual consistency). */
  invocationLag?: number
  /** What SendCommand answers as RequestedDateTime (default: the fake clock's now). */
  requestedAt?: (now: number) => Date | undefined
}

interface FakeCommand {
  id: string
  index: number
  instanceIds: string[]
  maxErrors: string
  requestedAt: number
  cancelled: boolean
}

/**
 * `status(instance, round, commandIndex)`: what the instance's invocation shows in the n-th poll
 * round (the n-th ListCommands call without a page token); undefined while SSM does not list it
 * yet. A command none of whose invocations is listed yet is missing from ListCommands too.
 */
export function fakeRunCommand(
  ssmMock: AwsStub<ServiceInputTypes, ServiceOutputTypes, SSMClientResolvedConfig>,
  clock: { now(): number; sleeps: number[] },
  status: (instanceId: string, round: number, commandIndex: number) => Status,
  options: FakeRunCommandOptions = {}
) {
  const mock = ssmMock
  const commands = new Map<string, FakeCommand>()
  const calls: StatusCall[] = []
  let round = 0

  const statusAt = (c: FakeCommand, instanceId: string, r: number): Status => {
    const s = status(instanceId, r, c.index)
    if (c.cancelled && (!s || ['Pending', 'InProgress', 'Delayed'].includes(s.Status ?? '')))
      return { Status: 'Cancelled', StatusDetails: 'Cancelled' }
    return s
  }
  const listedNow = (c: FakeCommand, r = round) => c.instanceIds.some((id) => statusAt(c, id, r) !== undefined)

  mock.on(SendCommandCommand).callsFake(async (input: SendCommandCommandInput) => {
    const id = `cmd-${commands.size + 1}`
    const requestedAt = clock.now()
    commands.set(id, {
      id,
      index: commands.size,
      instanceIds: input.InstanceIds ?? [],
      maxErrors: input.MaxErrors ?? '0',
      requestedAt,
      cancelled: false
    })
    const at = options.requestedAt ? options.requestedAt(requestedAt) : new Date(requestedAt)
    return { Command: { CommandId: id, RequestedDateTime: at } }
  })

  mock.on(ListCommandsCommand).callsFake(async (input: ListCommandsCommandInput) => {
    if (!input.CommandId && !input.NextToken) {
      round++
      options.onRound?.(round)
    }
    calls.push({ operation: 'ListCommands', round: clock.sleeps.length, input })
    if (input.CommandId) {
      const c = commands.get(input.CommandId)
      if (!c || !listedNow(c))
        throw new InvalidCommandId({ message: `Command ${input.CommandId} not found`, $metadata: {} })
      return { Commands: [rollUp(c)] }
    }
    const inWindow = (t: number) => (input.Filters ?? []).every((f) => matches(f, t))
    const ours = [...commands.values()]
      .filter((c) => listedNow(c) && inWindow(c.requestedAt))
      .reverse()
      .map(rollUp)
    const others = (n: number, from: number) => Array.from({ length: n }, (_, i) => foreign(from + i))
    const all = [...others(options.foreignCommands ?? 0, 0), ...ours, ...others(options.foreignAfter ?? 0, 1000)]
    const size = Math.min(input.MaxResults ?? 50, options.commandPageSize ?? 50)
    const from = Number(input.NextToken ?? 0)
    return {
      Commands: all.slice(from, from + size),
      NextToken: from + size < all.length ? String(from + size) : undefined
    }
  })

  mock.on(ListCommandInvocationsCommand).callsFake(async (input: ListCommandInvocationsCommandInput) => {
    calls.push({ operation: 'ListCommandInvocations', round: clock.sleeps.length, input })
    const c = commands.get(input.CommandId ?? '')
    options.onListInvocations?.(input.CommandId ?? '', round)
    if (!c) throw new InvalidCommandId({ message: 'no such command', $metadata: {} })
    const r = Math.max(0, round - (options.invocationLag ?? 0))
    const all = c.instanceIds.flatMap((instanceId) => {
      const s = statusAt(c, instanceId, r)
      return s ? [{ CommandId: c.id, InstanceId: instanceId, ...s }] : []
    })
    const size = Math.min(input.MaxResults ?? 50, options.invocationPageSize ?? 50)
    const from = Number(input.NextToken ?? 0)
    const next = from + size < all.length ? String(from + size) : undefined
    return { CommandInvocations: all.slice(from, from + size), NextToken: next }
  })

  mock.on(GetCommandInvocationCommand).callsFake(async (input: GetCommandInvocationCommandInput) => {
    calls.push({ operation: 'GetCommandInvocation', round: clock.sleeps.length, input })
    const c = commands.get(input.CommandId ?? '')
    const s = c ? statusAt(c, input.InstanceId ?? '', round) : undefined
    if (!s) throw new InvocationDoesNotExist({ message: 'not yet', $metadata: {} })
    return {
      CommandId: input.CommandId,
      InstanceId: input.InstanceId,
      ...s,
      ...(options.output?.(input.InstanceId ?? '') ?? {})
    }
  })

  mock.on(CancelCommandCommand).callsFake(async (input: { CommandId?: string }) => {
    const c = commands.get(input.CommandId ?? '')
    if (c) c.cancelled = true
    return {}
  })

  /** ListCommands' view of a command: SSM's roll-up of its invocations' statuses into counts. */
  function rollUp(c: FakeCommand): Command {
    const statuses = c.instanceIds.map((id) => statusAt(c, id, round))
    const isFinal = (s: Status) =>
      s !== undefined && !['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(s.Status ?? '')
    const deliveryTimedOut = statuses.filter((s) => s?.Status === 'TimedOut' && /deliver/i.test(s.StatusDetails ?? ''))
    const errors = statuses.filter(
      (s) => s?.Status === 'Failed' || (s?.Status === 'TimedOut' && !/deliver/i.test(s.StatusDetails ?? ''))
    )
    const completed = statuses.filter(isFinal).length
    const allowed = c.maxErrors.endsWith('%')
      ? Math.floor((Number(c.maxErrors.slice(0, -1)) * statuses.length) / 100)
      : Number(c.maxErrors)
    let Status: string
    let StatusDetails: string
    if (c.cancelled && completed === statuses.length) [Status, StatusDetails] = ['Cancelled', 'Cancelled']
    else if (completed < statuses.length)
      [Status, StatusDetails] = statuses.some((s) => s && s.Status !== 'Pending')
        ? ['InProgress', 'In Progress']
        : ['Pending', 'Pending']
    else if (statuses.every((s) => s?.Status === 'Success')) [Status, StatusDetails] = ['Success', 'Success']
    else if (errors.length > allowed) [Status, StatusDetails] = ['Failed', 'Failed']
    else [Status, StatusDetails] = ['Success', 'Incomplete']
    const override = options.commandOverride?.(c.index, round) ?? {}
    return {
      CommandId: c.id,
      RequestedDateTime: new Date(c.requestedAt),
      Status: Status as Command['Status'],
      StatusDetails,
      TargetCount: statuses.length,
      CompletedCount: completed,
      ErrorCount: errors.length,
      DeliveryTimedOutCount: deliveryTimedOut.length,
      ...override
    }
  }

  function foreign(i: number): Command {
    return {
      CommandId: `other-${i}`,
      Status: 'InProgress',
      TargetCount: 50,
      CompletedCount: 0,
      ErrorCount: 0,
      DeliveryTimedOutCount: 0
    }
  }

  /** Status calls per poll round, in order (rounds with no status call are left out). */
  const perRound = (): number[] => {
    const counts = new Map<number, number>()
    for (const c of calls) counts.set(c.round, (counts.get(c.round) ?? 0) + 1)
    return [...counts.values()]
  }
  const count = (operation: StatusCall['operation']) => calls.filter((c) => c.operation === operation).length
  return { commands, calls, perRound, count, rounds: () => round }
}

function matches(filter: CommandFilter, requestedAt: number): boolean {
  const t = Date.parse(filter.value ?? '')
  if (filter.key === 'InvokedAfter') return requestedAt >= t
  if (filter.key === 'InvokedBefore') return requestedAt <= t
  return true
}
