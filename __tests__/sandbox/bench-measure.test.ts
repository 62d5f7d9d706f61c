// The benchmark's arithmetic over the sandbox's call log: waves of requests in flight together,
// the gaps between them, what one ListCommands listing covers, and poll rounds.
import { describeSpan, floorMs, medianAnswerMs, span, waves } from '../../bench/critical-path.js'
import { commandsListed, measure, pollRounds } from '../../bench/measure.js'
import type { ApiCall, Command } from '../../sandbox/world.js'

const call = (operation: string, at: number, answeredAt: number, params: unknown = {}): ApiCall => ({
  at,
  answeredAt,
  service: operation.includes('Command') ? 'ssm' : 'elbv2',
  operation,
  params,
  status: 200
})

const command = (commandId: string, requestedAt: number, finishedAt: number): Command => ({
  commandId,
  documentName: 'AWS-RunShellScript',
  parameters: {},
  comment: '',
  instanceIds: ['i-1'],
  maxConcurrency: '50',
  maxErrors: '0',
  requestedAt,
  status: 'Success',
  invocations: new Map([
    [
      'i-1',
      {
        instanceId: 'i-1',
        status: 'Success',
        statusDetails: 'Success',
        responseCode: 0,
        stdout: '',
        stderr: '',
        requestedAt,
        finishedAt
      }
    ]
  ])
})

describe('waves and spans', () => {
  const calls = [
    call('DescribeListeners', 100, 120),
    // 80 ms of loading code, then three reads side by side.
    call('DescribeTargetGroups', 200, 220),
    call('DescribeTags', 201, 221),
    call('DescribeTargetHealth', 202, 223),
    call('AddTags', 230, 250),
    // a 100 ms settle
    call('DescribeTags', 350, 370),
    call('SendCommand', 380, 400)
  ]

  it('groups requests in flight together into one wave', () => {
    expect(waves(calls).map((w) => w.operations)).toEqual([
      ['DescribeListeners'],
      ['DescribeTargetGroups', 'DescribeTags', 'DescribeTargetHealth'],
      ['AddTags'],
      ['DescribeTags'],
      ['SendCommand']
    ])
  })

  it('splits a span into round trips and the gaps between them, naming the longest gap', () => {
    const setup = span(waves(calls), 100, 380)
    expect(setup).toEqual({
      waves: 4,
      roundTripMs: 20 + 23 + 20 + 20,
      gapMs: 80 + 7 + 100 + 10,
      longestGap: { ms: 100, after: 'AddTags', before: 'DescribeTags' }
    })
    expect(describeSpan('setup', setup)).toBe(
      'setup: 4 round trips (83 ms) + 197 ms between them, longest 100 ms between AddTags and DescribeTags'
    )
  })

  it('the floor is the start plus seven round trips of the median answer time', () => {
    expect(medianAnswerMs(calls)).toBe(20)
    expect(floorMs(90, 20)).toBe(230)
  })
})

describe('what a ListCommands listing covers', () => {
  const commands = [command('c1', 1000, 1500), command('c2', 1100, 1600), command('c3', 5000, 5200)]

  it("covers the run's commands sent by then and inside its time filters", () => {
    const filters = [
      { key: 'InvokedAfter', value: new Date(900).toISOString() },
      { key: 'InvokedBefore', value: new Date(2000).toISOString() }
    ]
    expect(commandsListed(commands, call('ListCommands', 1700, 1720, { Filters: filters }))).toEqual(['c1', 'c2'])
    expect(commandsListed(commands, call('ListCommands', 1050, 1070, { Filters: filters }))).toEqual(['c1'])
    expect(commandsListed(commands, call('ListCommands', 6000, 6020, {}))).toEqual(['c1', 'c2', 'c3'])
  })

  it('a run followed by ListCommands: one call a round, detection from the first listing after each finish', () => {
    const listing = (at: number) =>
      call('ListCommands', at, at + 20, { Filters: [{ key: 'InvokedAfter', value: new Date(0).toISOString() }] })
    const calls = [
      call('SendCommand', 1000, 1020),
      call('SendCommand', 1030, 1050),
      listing(1300),
      listing(1550),
      listing(1800)
    ]
    const metrics = measure({
      spawnedAt: 0,
      exitedAt: 3000,
      exitCode: 0,
      calls: [call('DescribeListeners', 100, 120), ...calls, call('ModifyListener', 2500, 2520)],
      commands: [command('c1', 1000, 1500), command('c2', 1030, 1600)],
      healthDetectionMs: 0
    })
    expect(pollRounds(calls)).toEqual([1, 1, 1])
    // A probe and readiness checks before the first send are not poll rounds.
    const probe = call('ListCommands', 900, 920, { MaxResults: 1 })
    const describe = call('DescribeInstanceInformation', 905, 925)
    expect(pollRounds([probe, describe, ...calls])).toEqual([1, 1, 1])
    // The pair's lock is read and renewed in Parameter Store while the poll runs, and read before
    // each change after it: not poll calls. A cancel made between two status requests is.
    const lockRead = (at: number) => ({ ...call('GetParameter', at, at + 20), service: 'ssm' as const })
    const cancel = call('CancelCommand', 1450, 1470, { CommandId: 'c2' })
    const withLock = [...calls.slice(0, 3), lockRead(1400), cancel, ...calls.slice(3), lockRead(2000), lockRead(2050)]
    expect(pollRounds(withLock)).toEqual([2, 1, 1])
    // c1 finished at 1500, seen at 1570; c2 at 1600, seen at 1820.
    expect(metrics.detectMedianMs).toBe(70)
    expect(metrics.detectLastMs).toBe(220)
    expect(metrics.ssmCallsPerRoundMax).toBe(1)
  })
})
