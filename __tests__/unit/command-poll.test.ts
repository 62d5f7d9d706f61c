// How the command runner follows its commands: one ListCommands call per poll round whatever the
// fleet's size, invocations listed only for commands with new failures or an unclean end, each
// failed instance's output fetched once, and SSM's eventual consistency tolerated.
import {
  InvocationDoesNotExist,
  ListCommandsCommand,
  type ListCommandsCommandInput,
  SSMClient
} from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { type CommandRequest, runCommand } from '../../src/fleet/run-commands.js'
import type { Log } from '../../src/runtime/log.js'
import {
  failed,
  fakeClock,
  fakeRunCommand,
  inProgress,
  pending,
  type Status,
  success
} from '../__fixtures__/fake-run-command.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'eu-west-1' })

beforeEach(() => ssmMock.reset())

const quietLog: Log = {
  info: () => undefined,
  debug: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  notice: () => undefined,
  group: (_title, phase) => phase()
}
const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i).padStart(4, '0')}`)

function request(instanceIds: string[], overrides: Partial<CommandRequest> = {}): CommandRequest {
  return {
    instanceIds,
    document: 'AWS-RunShellScript',
    parameters: { commands: ['./deploy.sh'] },
    executionTimeoutMs: 600_000,
    maxConcurrency: '100%',
    maxErrors: '0',
    comment: 'deploy',
    ...overrides
  }
}

function run(
  fleet: string[],
  status: (instanceId: string, round: number, commandIndex: number) => Status,
  options: Parameters<typeof fakeRunCommand>[3] = {},
  overrides: Partial<CommandRequest> = {}
) {
  const clock = fakeClock()
  const fake = fakeRunCommand(ssmMock, clock, status, options)
  const outcome = runCommand(ssm, request(fleet, overrides), { clock, log: quietLog })
  return { clock, fake, outcome }
}

describe('calls per poll round', () => {
  it.each([1, 50, 1000])('%i instances, all succeeding: one ListCommands a round and nothing else', async (n) => {
    // Pending, then running, then done in round 4 (each command at once: the counts roll them up).
    const { fake, outcome } = run(ids(n), (_id, round) => (round === 1 ? pending : round < 4 ? inProgress : success))
    expect(await outcome).toMatchObject({ succeeded: n, failed: 0, withinMaxErrors: true })
    expect(fake.perRound()).toEqual([1, 1, 1, 1])
    expect(fake.count('ListCommandInvocations')).toBe(0)
    expect(fake.count('GetCommandInvocation')).toBe(0)
  })

  it('1,000 instances whose commands end in different rounds: still one call a round', async () => {
    const { fake, outcome } = run(ids(1000), (id, round) =>
      round >= 2 + (Number(id.slice(2)) % 7) ? success : inProgress
    )
    expect(await outcome).toMatchObject({ succeeded: 1000 })
    expect(Math.max(...fake.perRound())).toBe(1)
    expect(fake.rounds()).toBe(8)
  })

  it('asks only about its own commands, in the time window SSM gave them', async () => {
    const { fake, outcome } = run(ids(120), () => success)
    await outcome
    const listing = ssmMock.commandCalls(ListCommandsCommand)[0].args[0].input as ListCommandsCommandInput
    expect(listing.CommandId).toBeUndefined()
    expect(listing.MaxResults).toBe(50)
    const sentAt = Math.min(...[...fake.commands.values()].map((c) => c.requestedAt))
    const lastAt = Math.max(...[...fake.commands.values()].map((c) => c.requestedAt))
    expect(listing.Filters).toEqual([
      { key: 'InvokedAfter', value: new Date(sentAt - 1000).toISOString() },
      { key: 'InvokedBefore', value: new Date(lastAt + 1000).toISOString() }
    ])
  })

  it("pages past the account's other commands until it has seen its own, and no further", async () => {
    const before = run(ids(10), () => success, { foreignCommands: 120 })
    expect(await before.outcome).toMatchObject({ succeeded: 10 })
    // 120 others first: pages of 50, ours on the third.
    expect(before.fake.perRound()).toEqual([3])

    ssmMock.reset()
    const after = run(ids(10), () => success, { foreignAfter: 120 })
    expect(await after.outcome).toMatchObject({ succeeded: 10 })
    expect(after.fake.perRound()).toEqual([1])
  })
})

describe('failures', () => {
  it("one failure in a 1,000-instance fleet: its command's invocations listed when it fails and at its end, its output fetched once", async () => {
    const bad = 'i-0123' // in the third command
    const { fake, outcome } = run(ids(1000), (id, round) => {
      if (id === bad) return round >= 2 ? failed : inProgress
      return round >= 5 ? success : inProgress
    })
    const result = await outcome
    expect(result).toMatchObject({ succeeded: 999, failed: 1, withinMaxErrors: false })
    expect(result.results.find((r) => r.instanceId === bad)).toMatchObject({ status: 'Failed' })

    const listings = fake.calls.filter((c) => c.operation === 'ListCommandInvocations')
    expect(listings.map((c) => ('CommandId' in c.input ? c.input.CommandId : ''))).toEqual(['cmd-3', 'cmd-3'])
    const outputs = fake.calls.filter((c) => c.operation === 'GetCommandInvocation')
    expect(outputs).toHaveLength(1)
    // Fetched in the round the failure showed, while the fleet still ran.
    expect(outputs[0].round).toBe(listings[0].round)
    expect(outputs[0].round).toBeLessThan(listings[1].round)
    // The round of the failure and the last round: 1 + the listing (+ the output); all others: 1.
    expect(fake.perRound()).toEqual([1, 3, 1, 1, 2])
  })

  it('a second failure in the same command is new: listed again, and each output fetched once', async () => {
    const { fake, outcome } = run(
      ids(50),
      (id, round) => {
        if (id === 'i-0001') return round >= 2 ? failed : inProgress
        if (id === 'i-0002') return round >= 3 ? failed : inProgress
        return round >= 6 ? success : inProgress
      },
      {},
      { maxErrors: '2' }
    )
    expect(await outcome).toMatchObject({ failed: 2, withinMaxErrors: true })
    expect(
      fake.calls
        .filter((c) => c.operation === 'GetCommandInvocation')
        .map((c) => 'InstanceId' in c.input && c.input.InstanceId)
    ).toEqual(['i-0001', 'i-0002'])
    // Rounds 2 and 3 for the new failures, round 6 for the unclean end; none in between.
    expect(fake.perRound()).toEqual([1, 3, 3, 1, 1, 2])
  })

  it('an invocation listing that lags the counts is asked again next round, and the output fetched once', async () => {
    const { fake, outcome } = run(
      ids(3),
      (id, round) => (id === 'i-0000' ? (round >= 2 ? failed : inProgress) : round >= 5 ? success : inProgress),
      { invocationLag: 1 }
    )
    expect(await outcome).toMatchObject({ failed: 1 })
    // Round 2: counts show the failure, the listing not yet; round 3: the listing does. At the end
    // (round 5) the listing still shows round 4, so round 6 lists again before the run ends.
    expect(fake.perRound()).toEqual([1, 2, 3, 1, 2, 2])
    expect(fake.count('GetCommandInvocation')).toBe(1)
  })

  it('a command that is Success overall but Incomplete (a cancelled instance no counter shows) is looked at', async () => {
    const cancelled: Status = { Status: 'Cancelled', StatusDetails: 'Cancelled' }
    const { fake, outcome } = run(['i-a', 'i-b'], (id) => (id === 'i-b' ? cancelled : success), {}, { maxErrors: '1' })
    const result = await outcome
    expect(result).toMatchObject({ succeeded: 1, failed: 1, withinMaxErrors: true })
    expect(result.results[1]).toMatchObject({ instanceId: 'i-b', status: 'Cancelled' })
    expect(fake.count('ListCommandInvocations')).toBe(1)
  })

  it('a command SSM stopped at MaxErrors, with targets never sent, ends at once instead of at the timeout', async () => {
    // SSM's counts: final, 1 of 5 completed (it failed); the other four never ran.
    const { clock, fake, outcome } = run(ids(5), (id, round) => (id === 'i-0000' && round >= 2 ? failed : pending), {
      commandOverride: (_k, round) =>
        round >= 2 ? { Status: 'Failed', StatusDetails: 'Failed', CompletedCount: 1, ErrorCount: 1 } : undefined
    })
    const result = await outcome
    expect(result).toMatchObject({ failed: 5, succeeded: 0, timedOut: false })
    expect(result.results.map((r) => r.status)).toEqual(['Failed', 'Pending', 'Pending', 'Pending', 'Pending'])
    expect(fake.rounds()).toBe(2)
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(1000)
  })
})

describe('eventual consistency', () => {
  it('an invocation listing that does not know the command yet is tolerated while it is young', async () => {
    let refused = 0
    const { outcome } = run(
      ids(2),
      (id, round) => (id === 'i-0000' && round >= 2 ? failed : round >= 3 ? success : inProgress),
      {
        onListInvocations: (_id, round) => {
          if (round === 2) {
            refused++
            throw new InvocationDoesNotExist({ message: 'not yet', $metadata: {} })
          }
        }
      }
    )
    expect(await outcome).toMatchObject({ failed: 1, succeeded: 1 })
    expect(refused).toBe(1)
  })

  it('a command the time window misses is asked for by its id after a minute, then followed that way', async () => {
    // SendCommand's RequestedDateTime an hour off SSM's listing: the window never finds it.
    const { clock, fake, outcome } = run(ids(3), (_id, round) => (round >= 100 ? success : inProgress), {
      requestedAt: (now) => new Date(now + 3600_000)
    })
    expect(await outcome).toMatchObject({ succeeded: 3 })
    const byId = fake.calls.filter((c) => 'CommandId' in c.input && c.input.CommandId && c.operation === 'ListCommands')
    expect(byId.length).toBeGreaterThan(0)
    // Never before a minute had passed.
    const firstById = fake.calls.indexOf(byId[0])
    const roundsBefore = fake.calls.slice(0, firstById).filter((c) => c.operation === 'ListCommands').length
    const sleptBefore = clock.sleeps.slice(0, byId[0].round).reduce((a, b) => a + b, 0)
    expect(sleptBefore).toBeGreaterThanOrEqual(60_000)
    expect(roundsBefore).toBeGreaterThan(10)
  })

  it("without SSM's time, the window is the runner's clock give or take five minutes", async () => {
    const { fake, outcome } = run(ids(1), () => success, { requestedAt: () => undefined })
    expect(await outcome).toMatchObject({ succeeded: 1 })
    const [filters] = ssmMock
      .commandCalls(ListCommandsCommand)
      .map((c) => (c.args[0].input as ListCommandsCommandInput).Filters)
    const sentAt = [...fake.commands.values()][0].requestedAt
    expect(filters).toEqual([
      { key: 'InvokedAfter', value: new Date(sentAt - 300_000 - 1000).toISOString() },
      { key: 'InvokedBefore', value: new Date(sentAt + 300_000 + 1000).toISOString() }
    ])
  })
})
