// Records written once traffic has settled: under one look at the pair's lock, side by side, and a
// failed write is a warning (the weights are what they are), while a lost lock stops the writing.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { AddTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { mockClient } from 'aws-sdk-client-mock'
import { LockLostError } from '../../src/config/errors.js'
import { TAG } from '../../src/records/fleet-records.js'
import { recordFleetsAfterTraffic } from '../../src/records/write-records.js'
import type { AwsClients } from '../../src/aws/clients.js'
import { BLUE, GREEN, ListLog } from '../__fixtures__/fake-aws.js'

const elbMock = mockClient(ElasticLoadBalancingV2Client)
let elb: ElasticLoadBalancingV2Client
let log: ListLog

beforeEach(() => {
  elbMock.reset()
  elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' })
  log = new ListLog()
})
afterEach(() => elb.destroy())

const ctx = () => ({ clients: { elb } as unknown as AwsClients, log })
const live = { version: 'v2', role: 'live' as const }
const previous = { version: 'v1', role: 'previous' as const }

describe('recordFleetsAfterTraffic', () => {
  it('writes both records under one look at the lock, side by side', async () => {
    const looks: string[] = []
    let inFlight = 0
    let most = 0
    elbMock.on(AddTagsCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setTimeout(r, 5))
      inFlight--
      return {}
    })
    const warnings: string[] = []
    await recordFleetsAfterTraffic(
      ctx(),
      (what, change) => {
        looks.push(what)
        return change()
      },
      warnings,
      [
        [GREEN, live],
        [BLUE, previous]
      ]
    )
    expect(looks).toEqual(['Recording web-green as live and web-blue as previous'])
    expect(most).toBe(2)
    const written = elbMock.commandCalls(AddTagsCommand).map((c) => c.args[0].input)
    expect(written.map((i) => i.ResourceArns)).toEqual([[GREEN], [BLUE]])
    expect(written[0].Tags).toContainEqual({ Key: TAG.role, Value: 'live' })
    expect(written[1].Tags).toContainEqual({ Key: TAG.role, Value: 'previous' })
    expect(warnings).toEqual([])
  })

  it('a write AWS refuses is a warning naming the fleet; the other record is still written', async () => {
    elbMock
      .on(AddTagsCommand, { ResourceArns: [BLUE] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    elbMock.on(AddTagsCommand, { ResourceArns: [GREEN] }).resolves({})
    const warnings: string[] = []
    await recordFleetsAfterTraffic(ctx(), (_what, change) => change(), warnings, [
      [GREEN, live],
      [BLUE, previous]
    ])
    expect(elbMock.commandCalls(AddTagsCommand)).toHaveLength(2)
    expect(warnings).toEqual([
      'Could not record web-blue as previous (Rate exceeded); status will show stale records until the next run'
    ])
    expect(log.lines).toContain(`warning: ${warnings[0]}`)
  })

  it('a lost lock writes nothing and is thrown, for the run to say it left the records to the holder', async () => {
    elbMock.on(AddTagsCommand).resolves({})
    const lost = new LockLostError('This run no longer holds the deploy lock')
    const warnings: string[] = []
    await expect(
      recordFleetsAfterTraffic(ctx(), () => Promise.reject(lost), warnings, [
        [GREEN, live],
        [BLUE, previous]
      ])
    ).rejects.toBe(lost)
    expect(elbMock.commandCalls(AddTagsCommand)).toHaveLength(0)
    expect(warnings).toEqual([])
  })
})
