// Thin calls to EC2 Auto Scaling, batched at the API's limits. What they mean for a deploy is
// decided in src/plan/auto-scaling.ts.
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import { chunks } from './batches.js'

/** DescribeAutoScalingInstances takes at most 50 instance ids and returns at most 50 rows. */
export const INSTANCES_PER_CALL = 50
/** DescribeAutoScalingGroups returns at most 100 groups a page; names are sent in batches of that size. */
export const GROUPS_PER_CALL = 100

export interface ScalingGroupInstance {
  id: string
  /** Pending, InService, Terminating, Standby, ... (the Pending:Wait kinds included). */
  lifecycleState: string
  /** Auto Scaling's own verdict (Healthy / Unhealthy). */
  healthy: boolean
}

/** An Auto Scaling group as the deploy needs it. */
export interface ScalingGroup {
  name: string
  arn: string
  minSize: number
  maxSize: number
  desiredCapacity: number
  /** Target groups it registers its instances in: TargetGroupARNs and elbv2 traffic sources. */
  targetGroupArns: string[]
  instances: ScalingGroupInstance[]
  /** Processes suspended now, by anyone. */
  suspendedProcesses: string[]
}

export function toScalingGroup(g: AutoScalingGroup): ScalingGroup {
  const sources = (g.TrafficSources ?? [])
    .filter((s) => (s.Type ?? 'elbv2') === 'elbv2' && s.Identifier)
    .map((s) => s.Identifier as string)
  return {
    name: g.AutoScalingGroupName ?? '',
    arn: g.AutoScalingGroupARN ?? '',
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    targetGroupArns: [...new Set([...(g.TargetGroupARNs ?? []), ...sources])],
    instances: (g.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? '',
      // DescribeAutoScalingGroups says Healthy, DescribeAutoScalingInstances HEALTHY.
      healthy: (i.HealthStatus ?? '').toLowerCase() === 'healthy'
    })),
    suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean)
  }
}

/** Instance id -> the group it belongs to, for those of `instanceIds` that belong to one. */
export async function groupNamesOfInstances(
  client: AutoScalingClient,
  instanceIds: readonly string[]
): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const batches = chunks([...new Set(instanceIds)], INSTANCES_PER_CALL)
  const results = await Promise.all(
    batches.map((ids) =>
      client.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids, MaxRecords: INSTANCES_PER_CALL }))
    )
  )
  for (const result of results) {
    for (const i of result.AutoScalingInstances ?? [])
      if (i.InstanceId && i.AutoScalingGroupName) out.set(i.InstanceId, i.AutoScalingGroupName)
  }
  return out
}

/** The named groups (names that match no group are left out, as AWS does). */
export async function describeGroups(client: AutoScalingClient, names: readonly string[]): Promise<ScalingGroup[]> {
  const unique = [...new Set(names)]
  if (unique.length === 0) return []
  const pages = await Promise.all(chunks(unique, GROUPS_PER_CALL).map((batch) => allPages(client, batch)))
  return pages.flat()
}

/** Every group of the region, for a fleet that has no instance to look its group up by. */
export function describeAllGroups(client: AutoScalingClient): Promise<ScalingGroup[]> {
  return allPages(client, undefined)
}

async function allPages(client: AutoScalingClient, names: string[] | undefined): Promise<ScalingGroup[]> {
  const out: ScalingGroup[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: names,
        MaxRecords: GROUPS_PER_CALL,
        NextToken: token
      })
    )
    out.push(...(page.AutoScalingGroups ?? []).map(toScalingGroup))
    token = page.NextToken
  } while (token)
  return out
}

export async function setDesiredCapacity(
  client: AutoScalingClient,
  groupName: string,
  capacity: number
): Promise<void> {
  await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: groupName, DesiredCapacity: capacity }))
}

/** Min size and desired capacity together, for a change the group's current minimum would refuse. */
export async function setGroupSize(
  client: AutoScalingClient,
  groupName: string,
  size: { minSize: number; desiredCapacity: number }
): Promise<void> {
  await client.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      MinSize: size.minSize,
      DesiredCapacity: size.desiredCapacity
    })
  )
}

export async function suspendProcesses(
  client: AutoScalingClient,
  groupName: string,
  processes: readonly string[]
): Promise<void> {
  await client.send(
    new SuspendProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: namedProcesses(processes) })
  )
}

export async function resumeProcesses(
  client: AutoScalingClient,
  groupName: string,
  processes: readonly string[]
): Promise<void> {
  await client.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: namedProcesses(processes) })
  )
}

/**
 * Both calls treat an empty list as *every* process: resuming with none named would resume what
 * the user had suspended on purpose. Never send one.
 */
function namedProcesses(processes: readonly string[]): string[] {
  if (processes.length === 0)
    throw new Error('no scaling process named: Auto Scaling would apply the call to every process')
  return [...processes]
}
