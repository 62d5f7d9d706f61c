import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommand,
  InvalidCommandId,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  type PingStatus,
  SendCommandCommand,
  SSMClient
} from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { DeployError } from '../../src/config/errors.js'
import type { Log } from '../../src/runtime/log.js'
import { cancelCommands } from '../../src/aws/ssm-commands.js'
import { checkInstancesReady } from '../../src/fleet/instance-readiness.js'
import { type CommandRequest, runCommand } from '../../src/fleet/run-commands.js'
import { consoleUrl, logGroupUrl } from '../../src/aws/console-links.js'
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

function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: (m) => lines.push(m),
    debug: (m) => lines.push(`debug: ${m}`),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    notice: (m) => lines.push(`notice: ${m}`),
    group: (title, phase) => {
      lines.push(`group: ${title}`)
      return phase().finally(() => lines.push('endgroup'))
    }
  }
}

const ids = (n: number, prefix = 'i-') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`)

function request(instanceIds: string[], overrides: Partial<CommandRequest> = {}): CommandRequest {
  return {
    instanceIds,
    document: 'AWS-RunShellScript',
    parameters: { commands: ['./deploy.sh'] },
    executionTimeoutMs: 600_000,
    maxConcurrency: '100%',
    maxErrors: '0',
    comment: 'deploy abc from acme/web run 42',
    ...overrides
  }
}

const fakeSsm = (
  clock: ReturnType<typeof fakeClock>,
  status: (instanceId: string, round: number, commandIndex: number) => Status,
  options: Parameters<typeof fakeRunCommand>[3] = {}
) => fakeRunCommand(ssmMock, clock, status, options)

describe('runCommand', () => {
  it('runs the document on 3 instances and reports each one, with one status call per round', async () => {
    const clock = fakeClock()
    const log = memoryLog()
    const ssmFake = fakeSsm(clock, (_id, round) => (round === 1 ? pending : round === 2 ? inProgress : success))
    const sent: string[][] = []

    const outcome = await runCommand(ssm, request(['i-a', 'i-b', 'i-c'], { cloudWatchLogGroup: '/deploy/web' }), {
      clock,
      log,
      onSent: (commandIds) => sent.push(commandIds)
    })

    expect(outcome).toMatchObject({
      commandIds: ['cmd-1'],
      succeeded: 3,
      failed: 0,
      withinMaxErrors: true,
      timedOut: false
    })
    expect(outcome.results).toEqual(
      ['i-a', 'i-b', 'i-c'].map((instanceId) => ({
        instanceId,
        status: 'Success',
        statusDetails: 'Success',
        exitCode: 0
      }))
    )
    const [send] = ssmMock.commandCalls(SendCommandCommand)
    expect(send.args[0].input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: ['i-a', 'i-b', 'i-c'],
      Parameters: { commands: ['./deploy.sh'], executionTimeout: ['600'] },
      TimeoutSeconds: 600,
      MaxConcurrency: '100%',
      MaxErrors: '0',
      Comment: 'deploy abc from acme/web run 42',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '/deploy/web', CloudWatchOutputEnabled: true }
    })
    expect(sent).toEqual([['cmd-1']])
    // Three rounds, one ListCommands each; SSM's counts said all succeeded, so nothing else.
    expect(ssmFake.perRound()).toEqual([1, 1, 1])
    expect(ssmFake.count('ListCommandInvocations')).toBe(0)
    expect(ssmFake.count('GetCommandInvocation')).toBe(0)
    expect(ssmMock.commandCalls(CancelCommandCommand)).toHaveLength(0)
    expect(log.lines).toContain('0/3 done, 0 failed')
    expect(log.lines).toContain('3/3 done, 0 failed')
  })

  it("keeps the caller's executionTimeout, adds none to other documents, and gives delivery at least 30 s", async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => success)
    await runCommand(
      ssm,
      request(['i-a'], { parameters: { commands: ['x'], executionTimeout: ['99'] }, executionTimeoutMs: 5_000 }),
      {
        clock,
        log: memoryLog()
      }
    )
    await runCommand(ssm, request(['i-a'], { document: 'Acme-Deploy', parameters: { version: ['1'] } }), {
      clock,
      log: memoryLog()
    })

    const [shell, custom] = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input)
    expect(shell.Parameters).toEqual({ commands: ['x'], executionTimeout: ['99'] })
    expect(shell.TimeoutSeconds).toBe(30)
    expect(shell.CloudWatchOutputConfig).toBeUndefined()
    expect(custom.Parameters).toEqual({ version: ['1'] })
  })

  it('sends 1,000 instances as 20 commands of 50 and follows all of them with one call per round', async () => {
    const clock = fakeClock()
    const fleet = ids(1000)
    // Command k finishes in round k % 4 + 2, so the commands end at different times.
    const finishRound = (k: number) => (k % 4) + 2
    const ssmFake = fakeSsm(clock, (_id, round, k) => (round >= finishRound(k) ? success : inProgress))
    const sent: number[] = []

    const outcome = await runCommand(ssm, request(fleet), {
      clock,
      log: memoryLog(),
      onSent: (c) => sent.push(c.length)
    })

    const sends = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.InstanceIds ?? [])
    expect(sends).toHaveLength(20)
    expect(Math.max(...sends.map((s) => s.length))).toBeLessThanOrEqual(50)
    expect(new Set(sends.flat())).toEqual(new Set(fleet))
    expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))

    expect(ssmFake.perRound()).toEqual([1, 1, 1, 1, 1])
    expect(ssmFake.count('ListCommandInvocations') + ssmFake.count('GetCommandInvocation')).toBe(0)
    expect(outcome).toMatchObject({ succeeded: 1000, failed: 0, withinMaxErrors: true })
    expect(outcome.commandIds).toHaveLength(20)
  })

  it('polls quickly at first and backs off to half a second while the command is young', async () => {
    const clock = fakeClock()
    fakeSsm(clock, (_id, round) => (round < 12 ? inProgress : success))
    await runCommand(ssm, request(['i-a']), { clock, log: memoryLog() })
    expect(clock.sleeps.slice(0, 3)).toEqual([100, 150, 225])
    expect(Math.max(...clock.sleeps)).toBe(500)
    expect(clock.sleeps.at(-1)).toBe(500)
  })

  it('looks at a long-running command at a twentieth of its age after a minute, at most every 5 s', async () => {
    const clock = fakeClock()
    fakeSsm(clock, (_id, round) => (round < 200 ? inProgress : success))
    await runCommand(ssm, request(['i-a'], { executionTimeoutMs: 3600_000 }), { clock, log: memoryLog() })
    const elapsed = clock.sleeps.reduce((a, b) => a + b, 0)
    // 200 rounds span over 7 minutes (every half second they would be spent in under 2).
    expect(elapsed).toBeGreaterThan(7 * 60_000)
    expect(Math.max(...clock.sleeps)).toBe(5000)
    // Every half second for the first minute; 80 s in, the interval is a twentieth of the age.
    let t = 0
    const firstMinute = clock.sleeps.filter((ms) => (t += ms) < 60_000)
    expect(Math.max(...firstMinute)).toBe(500)
    t = 0
    const at80s = clock.sleeps.find((ms) => (t += ms) > 80_000)
    expect(at80s).toBeGreaterThanOrEqual(3500)
    expect(at80s).toBeLessThanOrEqual(5000)
  })

  it('follows invocation listing pages of a command that failed', async () => {
    const clock = fakeClock()
    const fleet = ids(45)
    const ssmFake = fakeSsm(clock, (id) => (id === 'i-0044' ? failed : success), { invocationPageSize: 20 })
    const outcome = await runCommand(ssm, request(fleet, { maxErrors: '1' }), { clock, log: memoryLog() })
    expect(ssmMock.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      '20',
      '40'
    ])
    expect(ssmFake.count('GetCommandInvocation')).toBe(1)
    expect(outcome).toMatchObject({ succeeded: 44, failed: 1 })
  })

  it('treats a command missing from the listings right after sending as pending', async () => {
    const clock = fakeClock()
    const ssmFake = fakeSsm(clock, (_id, round) => (round <= 2 ? undefined : success))
    const outcome = await runCommand(ssm, request(['i-a', 'i-b']), { clock, log: memoryLog() })
    expect(outcome).toMatchObject({ succeeded: 2, failed: 0, timedOut: false })
    expect(ssmFake.perRound()).toEqual([1, 1, 1])
  })

  it('gives up on a command that stays unknown long after sending, and cancels it', async () => {
    const clock = fakeClock()
    const ssmFake = fakeSsm(clock, () => undefined)
    await expect(runCommand(ssm, request(['i-a']), { clock, log: memoryLog() })).rejects.toThrow(InvalidCommandId)
    expect(clock.now() - 1_700_000_000_000).toBeGreaterThanOrEqual(60_000)
    // Until then one listing a round; then it is asked for by its id, once.
    expect(ssmFake.calls.filter((c) => 'CommandId' in c.input && c.input.CommandId === 'cmd-1')).toHaveLength(1)
    expect(ssmMock.commandCalls(CancelCommandCommand).map((c) => c.args[0].input)).toEqual([{ CommandId: 'cmd-1' }])
  })

  it('fetches exit code and output tail for a failed instance only', async () => {
    const clock = fakeClock()
    const stdout = Array.from({ length: 100 }, (_, i) => `step ${i + 1}`).join('\n')
    fakeSsm(clock, (id, round) => (round === 1 ? inProgress : id === 'i-b' ? failed : success), {
      output: () => ({
        ResponseCode: 2,
        Status: 'Failed',
        StatusDetails: 'Failed',
        StandardOutputContent: `${stdout}\n`,
        StandardErrorContent: 'deploy.sh: migration failed\n',
        ExecutionStartDateTime: '2024-05-01T10:00:00.000Z',
        ExecutionEndDateTime: '2024-05-01T10:00:07.500Z'
      })
    })

    const outcome = await runCommand(ssm, request(['i-a', 'i-b', 'i-c']), { clock, log: memoryLog() })

    expect(ssmMock.commandCalls(GetCommandInvocationCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: 'cmd-1', InstanceId: 'i-b' }
    ])
    expect(outcome).toMatchObject({ succeeded: 2, failed: 1, withinMaxErrors: false, timedOut: false })
    const b = outcome.results.find((r) => r.instanceId === 'i-b')
    expect(b).toMatchObject({ status: 'Failed', statusDetails: 'Failed', exitCode: 2, durationMs: 7500 })
    const tail = b?.outputTail ?? ''
    expect(tail.split('\n')).toHaveLength(40)
    expect(tail).toContain('step 100')
    expect(tail).not.toContain('step 60\n')
    expect(tail.endsWith('--- stderr ---\ndeploy.sh: migration failed')).toBe(true)
    expect(outcome.results.find((r) => r.instanceId === 'i-a')).toEqual({
      instanceId: 'i-a',
      status: 'Success',
      statusDetails: 'Success',
      exitCode: 0
    })
  })

  it('bounds the output fetches for a fleet where everything fails, and the tail to 4 KB', async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => failed, { output: () => ({ ResponseCode: 1, StandardOutputContent: 'x'.repeat(10_000) }) })
    const outcome = await runCommand(ssm, request(ids(60)), { clock, log: memoryLog() })
    expect(outcome.failed).toBe(60)
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(20)
    expect(outcome.results.filter((r) => r.outputTail !== undefined)).toHaveLength(20)
    expect(outcome.results[0].outputTail).toHaveLength(4096)
    expect(outcome.results).toHaveLength(60)
  })

  it.each([
    { maxErrors: '1', fleet: 5, failures: 1, within: true },
    { maxErrors: '1', fleet: 5, failures: 2, within: false },
    { maxErrors: '0', fleet: 5, failures: 1, within: false },
    { maxErrors: '10%', fleet: 20, failures: 2, within: true },
    { maxErrors: '10%', fleet: 20, failures: 3, within: false }
  ])(
    'max-errors $maxErrors on $fleet instances with $failures failures: within = $within',
    async ({ maxErrors, fleet, failures, within }) => {
      const clock = fakeClock()
      const fleetIds = ids(fleet)
      const failing = new Set(fleetIds.slice(0, failures))
      fakeSsm(clock, (id) => (failing.has(id) ? failed : success))
      const outcome = await runCommand(ssm, request(fleetIds, { maxErrors }), { clock, log: memoryLog() })
      expect(outcome).toMatchObject({ failed: failures, succeeded: fleet - failures, withinMaxErrors: within })
      expect(ssmMock.commandCalls(SendCommandCommand)[0].args[0].input.MaxErrors).toBe(maxErrors)
    }
  )

  it('judges an absolute max-errors over the whole fleet, not per command', async () => {
    const clock = fakeClock()
    const fleet = ids(100)
    // One failure in each of the two commands: each is within max-errors 1, the fleet is not.
    fakeSsm(clock, (id) => (id === 'i-0000' || id === 'i-0099' ? failed : success))
    const outcome = await runCommand(ssm, request(fleet, { maxErrors: '1' }), { clock, log: memoryLog() })
    expect(ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.MaxErrors)).toEqual(['1', '1'])
    expect(outcome).toMatchObject({ failed: 2, withinMaxErrors: false })
  })

  it('counts Cancelled, TimedOut and undeliverable invocations as failures', async () => {
    const clock = fakeClock()
    const statuses: Record<string, Status> = {
      'i-a': { Status: 'Cancelled', StatusDetails: 'Cancelled' },
      'i-b': { Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' },
      'i-c': { Status: 'Failed', StatusDetails: 'Undeliverable' },
      'i-d': success
    }
    fakeSsm(clock, (id) => statuses[id])
    const outcome = await runCommand(ssm, request(Object.keys(statuses), { maxErrors: '100%' }), {
      clock,
      log: memoryLog()
    })
    expect(outcome).toMatchObject({ succeeded: 1, failed: 3, withinMaxErrors: true, timedOut: false })
    expect(outcome.results.map((r) => r.statusDetails)).toEqual([
      'Cancelled',
      'DeliveryTimedOut',
      'Undeliverable',
      'Success'
    ])
  })

  it('cancels unfinished commands at command-timeout and reports them timed out', async () => {
    const clock = fakeClock()
    const start = clock.now()
    fakeSsm(clock, (id) => (id === 'i-a' ? success : inProgress))
    const log = memoryLog()

    const outcome = await runCommand(ssm, request(['i-a', 'i-b'], { executionTimeoutMs: 60_000, maxErrors: '1' }), {
      clock,
      log
    })

    expect(ssmMock.commandCalls(CancelCommandCommand).map((c) => c.args[0].input)).toEqual([{ CommandId: 'cmd-1' }])
    expect(outcome).toMatchObject({ timedOut: true, succeeded: 1, failed: 1, withinMaxErrors: true })
    expect(outcome.results[0]).toMatchObject({ instanceId: 'i-a', status: 'Success' })
    expect(outcome.results[1]).toMatchObject({ instanceId: 'i-b', status: 'TimedOut' })
    expect(outcome.results[1].statusDetails).toContain('command-timeout')
    // Cancelled after the timeout and its grace, without overshooting it by more than one poll.
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000)
    expect(clock.now() - start).toBeLessThanOrEqual(60_000 + 30_000)
    expect(log.lines.some((l) => l.includes('command-timeout'))).toBe(true)
  })

  it('logs progress when it changes, and at debug level when nothing changes for 30 s', async () => {
    const clock = fakeClock()
    fakeSsm(clock, (_id, round) => (round < 90 ? inProgress : success))
    const log = memoryLog()
    await runCommand(ssm, request(['i-a']), { clock, log })
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(30_000)
    // Said once when it changes; while it stays the same, a sign of life at debug level.
    expect(log.lines.filter((l) => l === '0/1 done, 0 failed')).toHaveLength(1)
    expect(log.lines.filter((l) => l === 'debug: still 0/1 done, 0 failed').length).toBeGreaterThanOrEqual(1)
  })

  it('cancels the commands and rethrows the reason when the signal aborts', async () => {
    const clock = fakeClock()
    const controller = new AbortController()
    const reason = new Error('The operation was cancelled by the runner')
    fakeSsm(clock, () => inProgress, {
      onRound: (round) => {
        if (round === 2) controller.abort(reason)
      }
    })

    const run = runCommand(ssm, request(ids(60)), { clock, log: memoryLog(), signal: controller.signal })

    await expect(run).rejects.toBe(reason)
    expect(
      ssmMock
        .commandCalls(CancelCommandCommand)
        .map((c) => c.args[0].input.CommandId)
        .sort()
    ).toEqual(['cmd-1', 'cmd-2'])
  })

  it('does not send at all when the signal has already aborted', async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => success)
    const controller = new AbortController()
    controller.abort(new Error('cancelled'))
    await expect(
      runCommand(ssm, request(['i-a']), { clock, log: memoryLog(), signal: controller.signal })
    ).rejects.toThrow('cancelled')
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0)
  })

  it('cancels the commands already sent when a later send fails, and says what to fix', async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => success)
    ssmMock
      .on(SendCommandCommand)
      .resolvesOnce({ Command: { CommandId: 'cmd-1' } })
      .rejectsOnce(Object.assign(new Error('Parameter "executionTimeout" is invalid'), { name: 'InvalidParameters' }))
    const run = runCommand(ssm, request(ids(100)), { clock, log: memoryLog() })
    await expect(run).rejects.toThrow(DeployError)
    await expect(run).rejects.toThrow(/check commands and document-parameters/)
    expect(ssmMock.commandCalls(CancelCommandCommand).map((c) => c.args[0].input)).toEqual([{ CommandId: 'cmd-1' }])
  })

  it('shares an absolute max-concurrency out across the commands and passes a percentage as it is', async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => success)
    await runCommand(ssm, request(ids(120), { maxConcurrency: '10' }), { clock, log: memoryLog() })
    const absolute = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.MaxConcurrency)
    expect(absolute).toEqual(['4', '4', '1'])
    expect(absolute.reduce((sum, c) => sum + Number(c), 0)).toBeLessThanOrEqual(10)

    ssmMock.resetHistory()
    await runCommand(ssm, request(ids(120), { maxConcurrency: '25%' }), { clock, log: memoryLog() })
    expect(ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.MaxConcurrency)).toEqual([
      '25%',
      '25%',
      '25%'
    ])
  })

  it('gives each command at least one and warns when max-concurrency is below the number of commands', async () => {
    const clock = fakeClock()
    fakeSsm(clock, () => success)
    const log = memoryLog()
    await runCommand(ssm, request(ids(1000), { maxConcurrency: '5' }), { clock, log })
    const shares = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input.MaxConcurrency)
    expect(new Set(shares)).toEqual(new Set(['1']))
    expect(log.lines.some((l) => l.startsWith('warning: max-concurrency 5') && l.includes('up to 20 instances'))).toBe(
      true
    )
  })
})

describe('checkInstancesReady', () => {
  function describeFleet(online: Record<string, string>, pageSize = 50) {
    ssmMock.on(DescribeInstanceInformationCommand).callsFake(async (input: DescribeInstanceInformationCommandInput) => {
      const wanted = input.Filters?.[0]?.Values ?? []
      const known = wanted
        .filter((id) => id in online)
        .map((id) => ({ InstanceId: id, PingStatus: online[id] as PingStatus }))
      const from = Number(input.NextToken ?? 0)
      const next = from + pageSize < known.length ? String(from + pageSize) : undefined
      return { InstanceInformationList: known.slice(from, from + pageSize), NextToken: next }
    })
  }

  it('names each instance that is not managed or not online, and sends nothing', async () => {
    describeFleet({ 'i-0a': 'Online', 'i-0b': 'ConnectionLost', 'i-0d': 'Inactive' })
    const check = checkInstancesReady(ssm, ['i-0a', 'i-0b', 'i-0c', 'i-0d'])
    await expect(check).rejects.toThrow(DeployError)
    await expect(check).rejects.toThrow(
      /^3 of 4 idle instances cannot run commands: i-0b \(ConnectionLost\), i-0c \(not managed by SSM\), i-0d \(Inactive\); start the SSM agent/
    )
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0)
  })

  it('asks about at most 50 instances per call and follows the pages', async () => {
    const fleet = ids(120)
    describeFleet(Object.fromEntries(fleet.map((id) => [id, 'Online'])), 20)
    await checkInstancesReady(ssm, fleet)
    const calls = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input)
    expect(calls.every((c) => c.MaxResults === 50 && c.Filters?.[0]?.Key === 'InstanceIds')).toBe(true)
    // Batches are asked a few at a time, so their pages interleave: compare the sizes in order.
    expect(calls.map((c) => c.Filters?.[0]?.Values?.length ?? 0).sort((a, b) => a - b)).toEqual([
      20, 50, 50, 50, 50, 50, 50
    ])
  })

  it('refuses before anything is sent when the role may not follow commands with ListCommands', async () => {
    describeFleet({ 'i-0a': 'Online' })
    ssmMock.on(ListCommandsCommand).rejects(
      Object.assign(
        new Error('User: arn:aws:sts::1:assumed-role/deploy is not authorized to perform: ssm:ListCommands'),
        {
          name: 'AccessDeniedException'
        }
      )
    )
    const check = checkInstancesReady(ssm, ['i-0a'])
    await expect(check).rejects.toThrow(DeployError)
    await expect(check).rejects.toThrow(/give the workflow's role ssm:ListCommands .*; nothing was sent$/)
    const [probe] = ssmMock.commandCalls(ListCommandsCommand)
    expect(probe.args[0].input.MaxResults).toBe(1)
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0)
  })

  it('lets other errors of that probe through as they are', async () => {
    describeFleet({ 'i-0a': 'Online' })
    ssmMock.on(ListCommandsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
    await expect(checkInstancesReady(ssm, ['i-0a'])).rejects.toThrow('Rate exceeded')
  })

  it('bounds the list of instances in the message', async () => {
    describeFleet({})
    const fleet = ids(30)
    const error = await checkInstancesReady(ssm, fleet).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error
    )
    expect(error.message).toContain('30 of 30 idle instances')
    expect(error.message).toContain('i-0009 (not managed by SSM) and 20 more')
    expect(error.message).not.toContain('i-0010')
  })
})

describe('cancelCommands', () => {
  it('tries every command and names the ones it could not cancel', async () => {
    ssmMock.on(CancelCommandCommand).resolves({})
    ssmMock.on(CancelCommandCommand, { CommandId: 'cmd-2' }).rejects(new Error('throttled'))
    await expect(cancelCommands(ssm, ['cmd-1', 'cmd-2', 'cmd-3'])).rejects.toThrow(
      /Could not cancel 1 SSM command\(s\): cmd-2 \(throttled\)/
    )
    expect(ssmMock.commandCalls(CancelCommandCommand)).toHaveLength(3)
  })
})

describe('console links', () => {
  it('links the command in the Systems Manager console', () => {
    expect(consoleUrl('eu-west-1', 'abc-123')).toBe(
      'https://eu-west-1.console.aws.amazon.com/systems-manager/run-command/abc-123?region=eu-west-1'
    )
    expect(consoleUrl('cn-north-1', 'abc')).toMatch(/^https:\/\/cn-north-1\.console\.amazonaws\.cn\//)
  })

  it("links the log group with the console's double-encoded name", () => {
    expect(logGroupUrl('us-east-1', '/deploy/web')).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Fdeploy$252Fweb'
    )
  })
})
