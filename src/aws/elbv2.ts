import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  type Action,
  type TargetGroup
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { DeployError } from '../config/errors.js'
import { chunks } from './batches.js'

/** A listener's default actions or a rule's actions, as read from AWS. */
export interface Route {
  kind: 'listener' | 'rule'
  arn: string
  actions: Action[]
}

/** One registered target of a group and its health, as the load balancer reports it. */
export interface InstanceHealth {
  id: string
  state: string
  reason?: string
  description?: string
}

// The ELBv2 API's own limits on ARNs per describe call.
const ARNS_PER_DESCRIBE = 20

/** Reads the listeners' default actions and the rules' actions, in the order given. */
export async function readRoutes(
  elb: ElasticLoadBalancingV2Client,
  listenerArns: string[],
  ruleArns: string[]
): Promise<Route[]> {
  const routes: Route[] = []
  for (const batch of chunks(listenerArns, ARNS_PER_DESCRIBE)) {
    const { Listeners = [] } = await elb
      .send(new DescribeListenersCommand({ ListenerArns: batch }))
      .catch(notFound('listener', batch))
    for (const arn of batch) {
      const listener = Listeners.find((l) => l.ListenerArn === arn)
      if (!listener) throw new DeployError(`Listener ${arn} was not found; check listener-arns and the region`)
      routes.push({ kind: 'listener', arn, actions: listener.DefaultActions ?? [] })
    }
  }
  for (const batch of chunks(ruleArns, ARNS_PER_DESCRIBE)) {
    const { Rules = [] } = await elb.send(new DescribeRulesCommand({ RuleArns: batch })).catch(notFound('rule', batch))
    for (const arn of batch) {
      const rule = Rules.find((r) => r.RuleArn === arn)
      if (!rule) throw new DeployError(`Rule ${arn} was not found; check rule-arns and the region`)
      routes.push({ kind: 'rule', arn, actions: rule.Actions ?? [] })
    }
  }
  return routes
}

/** The same routes, read again now. */
export async function rereadRoutes(elb: ElasticLoadBalancingV2Client, routes: Route[]): Promise<Route[]> {
  return readRoutes(
    elb,
    routes.filter((r) => r.kind === 'listener').map((r) => r.arn),
    routes.filter((r) => r.kind === 'rule').map((r) => r.arn)
  )
}

/** Replaces a route's action list (the API has no way to change one weight alone). */
export async function writeRouteActions(
  elb: ElasticLoadBalancingV2Client,
  route: Route,
  actions: Action[]
): Promise<void> {
  if (route.kind === 'listener') {
    await elb.send(new ModifyListenerCommand({ ListenerArn: route.arn, DefaultActions: actions }))
  } else {
    await elb.send(new ModifyRuleCommand({ RuleArn: route.arn, Actions: actions }))
  }
}

export async function describeTargetGroups(
  elb: ElasticLoadBalancingV2Client,
  arns: readonly string[]
): Promise<TargetGroup[]> {
  const { TargetGroups = [] } = await elb
    .send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...arns] }))
    .catch(notFound('target group', arns))
  return arns.map((arn) => {
    const group = TargetGroups.find((g) => g.TargetGroupArn === arn)
    if (!group)
      throw new DeployError(`Target group ${arn} was not found; check the route's forward action and the region`)
    return group
  })
}

/** Every registered target of a group with its health, as the load balancer sees it now. */
export async function targetHealth(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string
): Promise<InstanceHealth[]> {
  const { TargetHealthDescriptions = [] } = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })
  )
  return TargetHealthDescriptions.map((d) => ({
    id: d.Target?.Id ?? '',
    state: d.TargetHealth?.State ?? 'unknown',
    reason: d.TargetHealth?.Reason,
    description: d.TargetHealth?.Description
  }))
}

export async function readTags(
  elb: ElasticLoadBalancingV2Client,
  arns: readonly string[]
): Promise<Record<string, Record<string, string>>> {
  const { TagDescriptions = [] } = await elb.send(new DescribeTagsCommand({ ResourceArns: [...arns] }))
  return Object.fromEntries(
    arns.map((arn) => {
      const tags = TagDescriptions.find((d) => d.ResourceArn === arn)?.Tags ?? []
      return [arn, Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']))]
    })
  )
}

export async function writeTags(
  elb: ElasticLoadBalancingV2Client,
  arn: string,
  tags: Record<string, string>
): Promise<void> {
  const entries = Object.entries(tags)
  if (entries.length === 0) return
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: entries.map(([Key, Value]) => ({ Key, Value })) }))
}

export async function removeTags(elb: ElasticLoadBalancingV2Client, arn: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return
  await elb.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: keys }))
}

function notFound(kind: string, arns: readonly string[]) {
  return (error: unknown): never => {
    const name = (error as Error)?.name ?? ''
    if (/NotFound/.test(name)) {
      throw new DeployError(`The ${kind} ${arns.join(', ')} was not found (${name}); check the ARN and the region`)
    }
    throw error
  }
}
