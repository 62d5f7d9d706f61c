// The approach the peers take, for the benchmark only (never part of the action): deploy to the
// idle fleet by waiting on each instance with the SDK's own waiters.
//
//   1. DescribeListeners: the forward action; the group at weight 0 is idle.
//   2. DescribeTargetHealth: the idle group's instances.
//   3. SendCommand in batches of 50 (SSM's limit), one after the other.
//   4. waitUntilCommandExecuted for every instance, all at once (the fastest way to use the waiter:
//      a for-loop awaiting one instance after the other is slower still).
//   5. waitUntilTargetInService for the idle group's instances.
//   6. DescribeListeners again, then ModifyListener with the weights flipped.
//
// The waiters keep their defaults (first check at once, then 5 s / 15 s minimum delay with
// exponential backoff and jitter), as a peer's action would. Run as a child process with the
// sandbox's environment plus BASELINE_LISTENER_ARN and BASELINE_COMMANDS; prints one line per
// phase and exits non-zero on failure.

import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  waitUntilTargetInService,
  type Action
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { SendCommandCommand, SSMClient, waitUntilCommandExecuted } from '@aws-sdk/client-ssm'

const MAX_WAIT_S = 600
const INSTANCES_PER_COMMAND = 50

async function main(): Promise<void> {
  const listenerArn = process.env.BASELINE_LISTENER_ARN
  const commands = (process.env.BASELINE_COMMANDS ?? '').split('\n').filter((l) => l.trim() !== '')
  if (!listenerArn || commands.length === 0) throw new Error('set BASELINE_LISTENER_ARN and BASELINE_COMMANDS')
  const region = process.env.AWS_REGION ?? 'us-east-1'
  const elb = new ElasticLoadBalancingV2Client({ region })
  const ssm = new SSMClient({ region })

  const groups = await forwardGroups(elb, listenerArn)
  const idle = groups.find((g) => (g.Weight ?? 0) === 0)?.TargetGroupArn
  if (!idle || groups.length !== 2) throw new Error('the listener must forward to two groups, one at weight 0')
  const { TargetHealthDescriptions = [] } = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: idle }))
  const ids = TargetHealthDescriptions.map((d) => d.Target?.Id ?? '').filter(Boolean)
  console.log(`idle ${idle}: ${ids.length} instances`)

  const sent: Array<{ commandId: string; instanceIds: string[] }> = []
  for (let i = 0; i < ids.length; i += INSTANCES_PER_COMMAND) {
    const batch = ids.slice(i, i + INSTANCES_PER_COMMAND)
    const { Command } = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: batch,
        Parameters: { commands },
        Comment: 'baseline deploy'
      })
    )
    sent.push({ commandId: Command?.CommandId ?? '', instanceIds: batch })
  }
  console.log(`sent ${sent.length} command(s)`)

  await Promise.all(
    sent.flatMap(({ commandId, instanceIds }) =>
      instanceIds.map((InstanceId) =>
        waitUntilCommandExecuted({ client: ssm, maxWaitTime: MAX_WAIT_S }, { CommandId: commandId, InstanceId })
      )
    )
  )
  console.log('commands done')

  await waitUntilTargetInService(
    { client: elb, maxWaitTime: MAX_WAIT_S },
    { TargetGroupArn: idle, Targets: ids.map((Id) => ({ Id })) }
  )
  console.log('targets in service')

  // Read the listener again right before writing, and flip the weights of the pair only.
  const { Listeners = [] } = await elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))
  const actions: Action[] = (Listeners[0]?.DefaultActions ?? []).map((a) =>
    a.Type === 'forward' && a.ForwardConfig?.TargetGroups
      ? {
          ...a,
          TargetGroupArn: undefined,
          ForwardConfig: {
            ...a.ForwardConfig,
            TargetGroups: a.ForwardConfig.TargetGroups.map((g) => ({
              ...g,
              Weight: g.TargetGroupArn === idle ? 100 : 0
            }))
          }
        }
      : a
  )
  await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: actions }))
  console.log(`flipped: ${idle} 100`)
}

async function forwardGroups(elb: ElasticLoadBalancingV2Client, listenerArn: string) {
  const { Listeners = [] } = await elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))
  const forward = (Listeners[0]?.DefaultActions ?? []).find((a) => a.Type === 'forward')
  return forward?.ForwardConfig?.TargetGroups ?? []
}

main().catch((e: unknown) => {
  console.error(`baseline failed: ${e instanceof Error ? e.message : String(e)}`)
  process.exitCode = 1
})
