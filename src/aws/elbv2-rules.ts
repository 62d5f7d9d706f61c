// The ELBv2 calls of the preview route: a listener's rules, creating and deleting one, and where
// a listener can be reached. Thin, like elbv2.ts; the decisions are in plan/preview-rule.ts.
import {
  CreateRuleCommand,
  type CreateRuleCommandInput,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  type Rule
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { chunks } from './batches.js'

// The ELBv2 API's own limits: rules per DescribeRules page, ARNs per describe call.
const RULES_PER_PAGE = 400
const ARNS_PER_DESCRIBE = 20

/** Every rule of a listener, the default rule included, through all pages. */
export async function listenerRules(elb: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = []
  let Marker: string | undefined
  do {
    const page = await elb.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: RULES_PER_PAGE, Marker })
    )
    rules.push(...(page.Rules ?? []))
    Marker = page.NextMarker
  } while (Marker)
  return rules
}

/** Creates a rule and returns its ARN. */
export async function createRule(elb: ElasticLoadBalancingV2Client, input: CreateRuleCommandInput): Promise<string> {
  const { Rules = [] } = await elb.send(new CreateRuleCommand(input))
  const arn = Rules[0]?.RuleArn
  if (!arn) throw new Error(`CreateRule on ${input.ListenerArn} returned no rule`)
  return arn
}

/** Deletes a rule; one already gone counts as deleted. */
export async function deleteRule(elb: ElasticLoadBalancingV2Client, ruleArn: string): Promise<void> {
  await elb.send(new DeleteRuleCommand({ RuleArn: ruleArn })).catch((error: unknown) => {
    if ((error as Error)?.name === 'RuleNotFoundException' || (error as Error)?.name === 'RuleNotFound') return
    throw error
  })
}

/** Protocol, port and load balancer DNS name of each listener, for a request a person can send. */
export async function listenerAddresses(
  elb: ElasticLoadBalancingV2Client,
  listenerArns: string[]
): Promise<Record<string, { protocol?: string; port?: number; dnsName?: string }>> {
  const out: Record<string, { protocol?: string; port?: number; dnsName?: string; lb?: string }> = {}
  for (const batch of chunks(listenerArns, ARNS_PER_DESCRIBE)) {
    const { Listeners = [] } = await elb.send(new DescribeListenersCommand({ ListenerArns: batch }))
    for (const l of Listeners) {
      if (l.ListenerArn) out[l.ListenerArn] = { protocol: l.Protocol, port: l.Port, lb: l.LoadBalancerArn }
    }
  }
  const lbs = [...new Set(Object.values(out).flatMap((l) => (l.lb ? [l.lb] : [])))]
  for (const batch of chunks(lbs, ARNS_PER_DESCRIBE)) {
    const { LoadBalancers = [] } = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: batch }))
    for (const l of Object.values(out)) l.dnsName = LoadBalancers.find((b) => b.LoadBalancerArn === l.lb)?.DNSName
  }
  return Object.fromEntries(Object.entries(out).map(([arn, { lb: _lb, ...rest }]) => [arn, rest]))
}
