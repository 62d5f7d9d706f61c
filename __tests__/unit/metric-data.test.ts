// The thin GetMetricData reader against a mocked CloudWatch: pages joined, order kept, failures named.
import { afterEach, describe, expect, it } from '@jest/globals'
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import { mockClient } from 'aws-sdk-client-mock'
import { readMetricData } from '../../src/aws/metric-data.js'

const cw = mockClient(CloudWatchClient)
const client = new CloudWatchClient({ region: 'us-east-1' })
const T0 = Date.UTC(2025, 10, 27, 12, 0, 0)
const at = (k: number) => new Date(T0 + k * 60_000)
const queries = [
  {
    Id: 'n0_req',
    MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' }, Period: 60, Stat: 'Sum' }
  }
]

afterEach(() => {
  cw.reset()
})

describe('readMetricData', () => {
  it('asks for the window oldest first and joins the pages of each query', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'n0_req', Timestamps: [at(0), at(1)], Values: [10, 20], StatusCode: 'PartialData' }],
        NextToken: 'page2'
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'n0_req', Timestamps: [at(2)], Values: [30], StatusCode: 'Complete' },
          { Id: 's0_req', Timestamps: [], Values: [], StatusCode: 'Complete' }
        ]
      })
    const read = await readMetricData(client, queries, T0, T0 + 180_000)
    expect(read.incomplete).toBe(false)
    expect(read.series.get('n0_req')).toEqual([
      { at: T0, value: 10 },
      { at: T0 + 60_000, value: 20 },
      { at: T0 + 120_000, value: 30 }
    ])
    expect(read.series.get('s0_req')).toEqual([])
    const calls = cw.commandCalls(GetMetricDataCommand)
    expect(calls).toHaveLength(2)
    expect(calls[0].args[0].input).toMatchObject({
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 180_000),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: queries
    })
    expect(calls[0].args[0].input.NextToken).toBeUndefined()
    expect(calls[1].args[0].input.NextToken).toBe('page2')
  })

  it('a query CloudWatch could not read makes the read incomplete, not zero', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'n0_req', Timestamps: [], Values: [], StatusCode: 'InternalError' }]
    })
    const read = await readMetricData(client, queries, T0, T0 + 60_000)
    expect(read.incomplete).toBe(true)
  })

  it('a missing permission says which one to grant, and how to do without', async () => {
    cw.on(GetMetricDataCommand).rejects(
      Object.assign(
        new Error('User: arn:aws:sts::1:assumed-role/deploy is not authorized to perform: cloudwatch:GetMetricData'),
        { name: 'AccessDenied' }
      )
    )
    await expect(readMetricData(client, queries, T0, T0 + 60_000)).rejects.toThrow(
      /grant cloudwatch:GetMetricData on "\*" to the deploy role, or set canary-analysis: false/
    )
  })

  it('other errors pass through unchanged (the SDK already retried throttling)', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    await expect(readMetricData(client, queries, T0, T0 + 60_000)).rejects.toThrow('Rate exceeded')
  })
})
