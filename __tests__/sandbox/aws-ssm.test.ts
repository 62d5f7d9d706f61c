import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput
} from '@aws-sdk/client-ssm'
import { addInstance } from '../../sandbox/aws/fixtures.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness
let ids: string[]

afterEach(async () => {
  await h.close()
})

async function setup(opts: Parameters<typeof startHarness>[0] = {}, instances = 3): Promise<void> {
  h = await startHarness(opts)
  ids = Array.from({ length: instances }, () => addInstance(h.world))
}

const send = (extra: Partial<SendCommandCommandInput> = {}) =>
  h.ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: ids,
      Parameters: { commands: ['echo hi'] },
      ...extra
    })
  )

describe('SSM SendCommand', () => {
  beforeEach(() => setup())

  test('creates the command with pending invocations and hands it to the executor', async () => {
    h.executor.mode = 'pending'
    const out = await send({ Comment: 'deploy run 42', TimeoutSeconds: 600, MaxConcurrency: '50%', MaxErrors: '0' })
    const cmd = out.Command!
    expect(cmd.CommandId).toMatch(/^[0-9a-f-]{36}$/)
    expect(cmd.Status).toBe('Pending')
    expect(cmd.TargetCount).toBe(3)
    expect(cmd.InstanceIds).toEqual(ids)
    expect(cmd.Comment).toBe('deploy run 42')
    expect(cmd.RequestedDateTime).toBeInstanceOf(Date)
    expect(Math.abs(cmd.RequestedDateTime!.getTime() - Date.now())).toBeLessThan(5000)
    expect(cmd.Parameters).toEqual({ commands: ['echo hi'] })
    expect(h.executor.started).toHaveLength(1)
    const stored = h.world.commands.get(cmd.CommandId!)!
    expect([...stored.invocations.values()].map((i) => i.status)).toEqual(['Pending', 'Pending', 'Pending'])
    expect(stored.maxConcurrency).toBe('50%')
  })

  test('50 instance ids are accepted, 51 are not', async () => {
    ids = Array.from({ length: 51 }, () => addInstance(h.world))
    await send({ InstanceIds: ids.slice(0, 50) })
    const err = await rejection(send({ InstanceIds: ids }))
    expect(err.name).toBe('ValidationException')
    expect(err.message).toMatch(/instanceIds.*less than or equal to 50/)
  })

  test('Targets with InstanceIds resolve to the instances, up to 50 values', async () => {
    const many = Array.from({ length: 51 }, () => addInstance(h.world))
    const out = await send({ InstanceIds: undefined, Targets: [{ Key: 'InstanceIds', Values: many.slice(0, 50) }] })
    expect(out.Command!.TargetCount).toBe(50)
    expect(out.Command!.Targets).toEqual([{ Key: 'InstanceIds', Values: many.slice(0, 50) }])
    const err = await rejection(send({ InstanceIds: undefined, Targets: [{ Key: 'InstanceIds', Values: many }] }))
    expect(err.name).toBe('ValidationException')
  })

  test('comment 100 characters accepted, 101 rejected', async () => {
    await send({ Comment: 'c'.repeat(100) })
    expect((await rejection(send({ Comment: 'c'.repeat(101) }))).name).toBe('ValidationException')
  })

  test('TimeoutSeconds 30..2592000', async () => {
    await send({ TimeoutSeconds: 30 })
    await send({ TimeoutSeconds: 2592000 })
    for (const bad of [29, 2592001])
      expect((await rejection(send({ TimeoutSeconds: bad }))).name).toBe('ValidationException')
  })

  test.each(['1', '50', '100', '1%', '10%', '99%', '100%'])('MaxConcurrency %s accepted', async (v) => {
    await send({ MaxConcurrency: v })
  })

  test.each(['0', '0%', '101%', '05', 'x', '1.5'])('MaxConcurrency %s rejected', async (v) => {
    const err = await rejection(send({ MaxConcurrency: v }))
    expect(err.name).toBe('ValidationException')
  })

  test.each(['0', '1', '25', '0%', '5%', '50%', '100%'])('MaxErrors %s accepted', async (v) => {
    await send({ MaxErrors: v })
  })

  test.each(['00', '101%', '-1', 'all'])('MaxErrors %s rejected', async (v) => {
    expect((await rejection(send({ MaxErrors: v }))).name).toBe('ValidationException')
  })

  test('executionTimeout 1..172800 as the document allows', async () => {
    await send({ Parameters: { commands: ['true'], executionTimeout: ['1'] } })
    await send({ Parameters: { commands: ['true'], executionTimeout: ['172800'] } })
    for (const bad of ['0', '172801', 'abc']) {
      const err = await rejection(send({ Parameters: { commands: ['true'], executionTimeout: [bad] } }))
      expect(err.name).toBe('InvalidParameters')
    }
  })

  test('document parameters: commands required, unknown names rejected', async () => {
    expect((await rejection(send({ Parameters: { workingDirectory: ['/srv'] } }))).name).toBe('InvalidParameters')
    expect((await rejection(send({ Parameters: { commands: ['x'], bogus: ['1'] } }))).name).toBe('InvalidParameters')
    await send({ Parameters: { commands: ['x'], workingDirectory: ['/srv/web'] } })
  })

  test('unknown document raises InvalidDocument', async () => {
    expect((await rejection(send({ DocumentName: 'Team-Deploy' }))).name).toBe('InvalidDocument')
  })

  test('unknown, unmanaged or offline instances raise InvalidInstanceId and send nothing', async () => {
    const unmanaged = addInstance(h.world, { managedBySsm: false })
    const lost = addInstance(h.world, { pingStatus: 'ConnectionLost' })
    for (const bad of ['i-0aaaaaaaaaaaaaaaa', unmanaged, lost]) {
      const err = await rejection(send({ InstanceIds: [ids[0], bad] }))
      expect(err.name).toBe('InvalidInstanceId')
      expect(err.message).toContain(bad)
    }
    expect(h.executor.started).toHaveLength(0)
    expect(h.world.commands.size).toBe(0)
  })

  test('missing DocumentName is a ValidationException', async () => {
    const err = await rejection(h.ssm.send(new SendCommandCommand({ DocumentName: '', InstanceIds: ids })))
    expect(err.name).toBe('ValidationException')
  })
})

describe('SSM results', () => {
  test('ListCommandInvocations with Details returns plugin output', async () => {
    await setup()
    const id = (await send()).Command!.CommandId!
    const inv = h.world.commands.get(id)!.invocations.get(ids[1])!
    inv.status = 'Failed'
    inv.statusDetails = 'Failed'
    inv.responseCode = 2
    inv.stdout = 'x'.repeat(3000)
    inv.stderr = 'boom'
    const out = await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: true }))
    expect(out.CommandInvocations!.map((i) => i.Status)).toEqual(['Success', 'Failed', 'Success'])
    const failed = out.CommandInvocations![1]
    expect(failed.InstanceId).toBe(ids[1])
    expect(failed.CommandPlugins![0].Name).toBe('aws:runShellScript')
    expect(failed.CommandPlugins![0].ResponseCode).toBe(2)
    expect(failed.CommandPlugins![0].Output).toHaveLength(2500)
    expect(failed.RequestedDateTime).toBeInstanceOf(Date)
    const brief = await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))
    expect(brief.CommandInvocations![0].CommandPlugins).toEqual([])
    const cmd = (await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]
    expect(cmd).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Failed',
      TargetCount: 3,
      CompletedCount: 3,
      ErrorCount: 1
    })
  })

  test('ListCommandInvocations paginates and bounds MaxResults 1..50', async () => {
    await setup({}, 5)
    const id = (await send()).Command!.CommandId!
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const out = await h.ssm.send(
        new ListCommandInvocationsCommand({ CommandId: id, MaxResults: 2, NextToken: token })
      )
      seen.push(...out.CommandInvocations!.map((i) => i.InstanceId!))
      token = out.NextToken
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(seen).toEqual(ids)
    await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, MaxResults: 50 }))
    expect(
      (await rejection(h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, MaxResults: 51 })))).name
    ).toBe('ValidationException')
    expect(
      (await rejection(h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, MaxResults: 0 })))).name
    ).toBe('ValidationException')
    expect(
      (await rejection(h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, NextToken: 'bogus' })))).name
    ).toBe('InvalidNextToken')
  })

  test('invocations are invisible until the consistency delay has passed', async () => {
    await setup({ consistencyDelayMs: 400 })
    const id = (await send()).Command!.CommandId!
    const early = await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))
    expect(early.CommandInvocations).toEqual([])
    const err = await rejection(h.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: ids[0] })))
    expect(err.name).toBe('InvocationDoesNotExist')
    await new Promise((r) => setTimeout(r, 450))
    expect((await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))).CommandInvocations).toHaveLength(3)
    const got = await h.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: ids[0] }))
    expect(got.Status).toBe('Success')
  })

  test('world.apiFaults.consistencyDelayMs overrides the option at run time', async () => {
    await setup()
    h.world.apiFaults.consistencyDelayMs = 60_000
    const id = (await send()).Command!.CommandId!
    expect((await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))).CommandInvocations).toEqual([])
    h.world.apiFaults.consistencyDelayMs = 0
    expect((await h.ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))).CommandInvocations).toHaveLength(3)
  })

  test('GetCommandInvocation returns output, times and exit code', async () => {
    await setup()
    const id = (await send()).Command!.CommandId!
    const inv = h.world.commands.get(id)!.invocations.get(ids[0])!
    inv.stdout = 'o'.repeat(30000)
    inv.stderr = 'warning'
    const out = await h.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: ids[0] }))
    expect(out.Status).toBe('Success')
    expect(out.ResponseCode).toBe(0)
    expect(out.PluginName).toBe('aws:runShellScript')
    expect(out.StandardOutputContent).toHaveLength(24000)
    expect(out.StandardErrorContent).toBe('warning')
    expect(out.ExecutionStartDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(out.ExecutionElapsedTime).toBe('PT0.005S')
    const wrongPlugin = await rejection(
      h.ssm.send(
        new GetCommandInvocationCommand({ CommandId: id, InstanceId: ids[0], PluginName: 'aws:runPowerShellScript' })
      )
    )
    expect(wrongPlugin.name).toBe('InvalidPluginName')
    const other = addInstance(h.world)
    const notPart = await rejection(h.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: other })))
    expect(notPart.name).toBe('InvocationDoesNotExist')
  })

  test('a pending invocation has no execution times and response code -1', async () => {
    await setup({ mode: 'pending' })
    const id = (await send()).Command!.CommandId!
    const out = await h.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: ids[2] }))
    expect(out).toMatchObject({
      Status: 'Pending',
      ResponseCode: -1,
      ExecutionStartDateTime: '',
      ExecutionElapsedTime: ''
    })
  })

  test('CancelCommand reaches the executor; status rolls up to Cancelled', async () => {
    await setup({ mode: 'pending' })
    const id = (await send()).Command!.CommandId!
    await h.ssm.send(new CancelCommandCommand({ CommandId: id, InstanceIds: [ids[0]] }))
    expect(h.executor.cancelled).toEqual([{ commandId: id, instanceIds: [ids[0]] }])
    let cmd = (await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]
    expect(cmd.Status).toBe('InProgress')
    await h.ssm.send(new CancelCommandCommand({ CommandId: id }))
    cmd = (await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]
    expect(cmd.Status).toBe('Cancelled')
    const missing = await rejection(
      h.ssm.send(new CancelCommandCommand({ CommandId: '00000000-0000-0000-0000-000000000000' }))
    )
    expect(missing.name).toBe('InvalidCommandId')
  })

  test('ListCommands newest first, with filters and MaxResults bounds', async () => {
    await setup()
    const first = (await send({ Comment: 'first' })).Command!.CommandId!
    await new Promise((r) => setTimeout(r, 5))
    const second = (await send({ Comment: 'second' })).Command!.CommandId!
    const all = await h.ssm.send(new ListCommandsCommand({}))
    expect(all.Commands!.map((c) => c.CommandId)).toEqual([second, first])
    const page = await h.ssm.send(new ListCommandsCommand({ MaxResults: 1 }))
    expect(page.Commands).toHaveLength(1)
    expect(page.NextToken).toBeDefined()
    const byStatus = await h.ssm.send(new ListCommandsCommand({ Filters: [{ key: 'Status', value: 'Success' }] }))
    expect(byStatus.Commands).toHaveLength(2)
    expect((await rejection(h.ssm.send(new ListCommandsCommand({ MaxResults: 51 })))).name).toBe('ValidationException')
  })

  test('a command just sent is not listed, nor found by its id, until the consistency delay has passed', async () => {
    await setup({ consistencyDelayMs: 400 })
    const id = (await send()).Command!.CommandId!
    expect((await h.ssm.send(new ListCommandsCommand({}))).Commands).toEqual([])
    expect((await rejection(h.ssm.send(new ListCommandsCommand({ CommandId: id })))).name).toBe('InvalidCommandId')
    await new Promise((r) => setTimeout(r, 450))
    expect((await h.ssm.send(new ListCommandsCommand({}))).Commands!.map((c) => c.CommandId)).toEqual([id])
    expect((await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands).toHaveLength(1)
  })

  test('InvokedAfter and InvokedBefore select the commands requested in a window, by RequestedDateTime', async () => {
    await setup()
    const before = (await send({ Comment: 'before' })).Command!
    await new Promise((r) => setTimeout(r, 20))
    const inside = (await send({ Comment: 'inside' })).Command!
    await new Promise((r) => setTimeout(r, 20))
    const after = (await send({ Comment: 'after' })).Command!
    const at = (c: typeof inside) => c.RequestedDateTime!.getTime()
    const window = await h.ssm.send(
      new ListCommandsCommand({
        Filters: [
          { key: 'InvokedAfter', value: new Date(at(inside)).toISOString() },
          { key: 'InvokedBefore', value: new Date(at(inside)).toISOString() }
        ]
      })
    )
    expect(window.Commands!.map((c) => c.Comment)).toEqual(['inside'])
    const since = await h.ssm.send(
      new ListCommandsCommand({ Filters: [{ key: 'InvokedAfter', value: new Date(at(before) + 1).toISOString() }] })
    )
    expect(since.Commands!.map((c) => c.CommandId)).toEqual([after.CommandId, inside.CommandId])
    const bad = await rejection(
      h.ssm.send(new ListCommandsCommand({ Filters: [{ key: 'InvokedAfter', value: 'yesterday' }] }))
    )
    expect(bad.name).toBe('InvalidFilterValue')
  })

  test('counts as the command runs: TargetCount, CompletedCount, ErrorCount, DeliveryTimedOutCount', async () => {
    await setup({ mode: 'pending' }, 5)
    const id = (await send({ MaxErrors: '5' })).Command!.CommandId!
    const invs = [...h.world.commands.get(id)!.invocations.values()]
    const counts = async () => {
      const c = (await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]
      return [c.Status, c.StatusDetails, c.TargetCount, c.CompletedCount, c.ErrorCount, c.DeliveryTimedOutCount]
    }
    expect(await counts()).toEqual(['Pending', 'Pending', 5, 0, 0, 0])
    invs[0].status = 'Success'
    invs[1].status = 'InProgress'
    expect(await counts()).toEqual(['InProgress', 'In Progress', 5, 1, 0, 0])
    invs[1].status = 'Failed'
    invs[2].status = 'TimedOut'
    invs[2].statusDetails = 'ExecutionTimedOut'
    expect(await counts()).toEqual(['InProgress', 'In Progress', 5, 3, 2, 0])
    invs[3].status = 'TimedOut'
    invs[3].statusDetails = 'DeliveryTimedOut'
    invs[4].status = 'Success'
    // Every target ended, within MaxErrors, but not all succeeded: Incomplete.
    expect(await counts()).toEqual(['Failed', 'Incomplete', 5, 5, 2, 1])
    invs.forEach((i) => ((i.status = 'Success'), (i.statusDetails = 'Success')))
    expect(await counts()).toEqual(['Success', 'Success', 5, 5, 0, 0])
  })

  test('command status rolls up: Success, InProgress, Incomplete vs MaxErrors', async () => {
    await setup({ mode: 'pending' }, 4)
    const id = (await send({ MaxErrors: '1' })).Command!.CommandId!
    const cmd = h.world.commands.get(id)!
    const status = async () => (await h.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]
    expect((await status()).Status).toBe('Pending')
    const invs = [...cmd.invocations.values()]
    invs[0].status = 'InProgress'
    expect((await status()).Status).toBe('InProgress')
    invs.forEach((i) => (i.status = 'Success'))
    invs[3].status = 'Failed'
    expect(await status()).toMatchObject({ Status: 'Failed', StatusDetails: 'Incomplete', ErrorCount: 1 })
    invs[2].status = 'Failed'
    expect(await status()).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ErrorCount: 2 })
  })
})

describe('SSM DescribeInstanceInformation', () => {
  beforeEach(() => setup({}, 12))

  test('lists managed instances with ping status, filtered and paginated', async () => {
    const lost = addInstance(h.world, { pingStatus: 'ConnectionLost' })
    const unmanaged = addInstance(h.world, { managedBySsm: false })
    const out = await h.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [ids[0], lost, unmanaged] }] })
    )
    expect(out.InstanceInformationList!.map((i) => [i.InstanceId, i.PingStatus])).toEqual([
      [ids[0], 'Online'],
      [lost, 'ConnectionLost']
    ])
    expect(out.InstanceInformationList![0]).toMatchObject({ PlatformType: 'Linux', ResourceType: 'EC2Instance' })
    expect(out.InstanceInformationList![0].LastPingDateTime).toBeInstanceOf(Date)
    const legacy = await h.ssm.send(
      new DescribeInstanceInformationCommand({
        InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [ids[1]] }]
      })
    )
    expect(legacy.InstanceInformationList!.map((i) => i.InstanceId)).toEqual([ids[1]])

    const first = await h.ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 5 }))
    expect(first.InstanceInformationList).toHaveLength(5)
    expect(first.NextToken).toBeDefined()
    const dflt = await h.ssm.send(new DescribeInstanceInformationCommand({}))
    expect(dflt.InstanceInformationList).toHaveLength(10)
    for (const bad of [4, 51]) {
      expect((await rejection(h.ssm.send(new DescribeInstanceInformationCommand({ MaxResults: bad })))).name).toBe(
        'ValidationException'
      )
    }
    const badKey = await rejection(
      h.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Color', Values: ['red'] }] }))
    )
    expect(badKey.name).toBe('InvalidFilterKey')
  })
})
