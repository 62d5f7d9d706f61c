import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import { DeployError } from '../config/errors.js'

/** Datapoints by query id, oldest first; a query with no data may be absent. */
export type MetricSeries = ReadonlyMap<string, ReadonlyArray<{ at: number; value: number }>>

export interface MetricRead {
  series: MetricSeries
  /** CloudWatch said some of the data could not be read this time (StatusCode InternalError). */
  incomplete: boolean
}

/**
 * Reads the queries' datapoints over [start, end), oldest first, following NextToken until every
 * page is in. A query CloudWatch reports as InternalError makes the read incomplete: the caller
 * treats the look as "no verdict yet" rather than as zero. A missing permission is an error the
 * user must fix, named with the action to grant.
 */
export async function readMetricData(
  cloudwatch: CloudWatchClient,
  queries: MetricDataQuery[],
  start: number,
  end: number
): Promise<MetricRead> {
  const series = new Map<string, Array<{ at: number; value: number }>>()
  let incomplete = false
  let NextToken: string | undefined
  do {
    let page
    try {
      page = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(start),
          EndTime: new Date(end),
          ScanBy: 'TimestampAscending',
          NextToken
        })
      )
    } catch (error) {
      const name = (error as Error).name
      if (name === 'AccessDenied' || name === 'AccessDeniedException') {
        throw new DeployError(
          `Reading the load balancer metrics was denied (${(error as Error).message}); grant cloudwatch:GetMetricData on "*" to the deploy role, or set canary-analysis: false`
        )
      }
      throw error
    }
    for (const result of page.MetricDataResults ?? []) {
      if (!result.Id) continue
      if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') incomplete = true
      const list = series.get(result.Id) ?? []
      const values = result.Values ?? []
      ;(result.Timestamps ?? []).forEach((t, i) => {
        if (values[i] !== undefined) list.push({ at: t.getTime(), value: values[i] })
      })
      series.set(result.Id, list)
    }
    NextToken = page.NextToken
  } while (NextToken)
  for (const list of series.values()) list.sort((a, b) => a.at - b.at)
  return { series, incomplete }
}
