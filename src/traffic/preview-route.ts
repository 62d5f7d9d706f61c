import type { ElasticLoadBalancingV2Client, Rule } from '@aws-sdk/client-elastic-load-balancing-v2'
import { readTags } from '../aws/elbv2.js'
import { createRule, deleteRule, listenerAddresses, listenerRules } from '../aws/elbv2-rules.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import type { PreviewInput } from '../config/hook-inputs.js'
import { DeployError, messageOf } from '../config/errors.js'
import {
  curlLine,
  type ListenerAddress,
  listenerOfRoute,
  mayBePreviewRule,
  planPreviewRules,
  PREVIEW_TAG,
  type PreviewedRoute,
  previewedFleet,
  type PreviewReport,
  type PreviewRulePlan,
  type PreviewRuleReport
} from '../plan/preview-rule.js'
import type { Log } from '../runtime/log.js'

interface PreviewContext {
  clients: { elb: ElasticLoadBalancingV2Client }
  log: Log
}

/** The routes a run moves traffic on, as the preview needs them. */
interface RoutesOfThePair {
  routes: Array<{ kind: 'listener' | 'rule'; arn: string }>
  pair: readonly string[]
}

/**
 * The preview route of one deploy: planned before anything changes (a dry run shows it), opened
 * before the first shift, closed at every ending. Requests carrying `header: version` reach the
 * new fleet through the real load balancer while users still reach the old one.
 */
export class PreviewRoute {
  private constructor(
    private readonly ctx: PreviewContext,
    readonly report: PreviewReport,
    private plans: PreviewRulePlan[],
    private readonly routes: PreviewedRoute[],
    private readonly input: { header: string; value: string; newFleet: string; priority?: number },
    /** Earlier preview rules of the pair (a run that died with its post step): removed on open. */
    private stale: string[],
    private readonly addresses: Record<string, ListenerAddress>
  ) {}

  /** Reads the listeners' rules and decides every rule; changes nothing. Throws when none fits. */
  static async plan(
    ctx: PreviewContext,
    found: RoutesOfThePair,
    preview: PreviewInput,
    version: string,
    newFleet: string,
    warnings: string[]
  ): Promise<PreviewRoute> {
    const routes = await readListenerRules(ctx.clients.elb, found.routes)
    const stale = (await previewRulesOf(ctx.clients.elb, routes, found.pair)).map((r) => r.RuleArn as string)
    const input = { header: preview.header, value: version, newFleet, priority: preview.priority }
    const plans = planPreviewRules({ routes, ...input, replaced: stale })
    const addresses = await addressesOf(ctx, routes, warnings)
    const report: PreviewReport = {
      header: preview.header,
      value: version,
      fleet: newFleet,
      state: 'planned',
      rules: plans.map((p) => ruleReport(p, addresses, preview.header, version))
    }
    return new PreviewRoute(ctx, report, plans, routes, input, stale, addresses)
  }

  /** The preview rules of the pair already open (a paused canary's), for a promote or a rollback to close. */
  static async find(
    ctx: PreviewContext,
    found: RoutesOfThePair,
    opts: { withAddresses?: boolean; warnings?: string[] } = {}
  ): Promise<PreviewRoute | undefined> {
    const routes = await readListenerRules(ctx.clients.elb, found.routes)
    const open = await previewRulesOf(ctx.clients.elb, routes, found.pair)
    if (open.length === 0) return undefined
    const header = open[0].Conditions?.find((c) => c.Field === 'http-header')?.HttpHeaderConfig
    const fleet = open[0].Actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn
    const addresses = opts.withAddresses ? await addressesOf(ctx, routes, opts.warnings ?? []) : {}
    const input = { header: header?.HttpHeaderName ?? '', value: header?.Values?.[0] ?? '', newFleet: fleet ?? '' }
    const rules = open.map((rule) => {
      const listenerArn = routes.find((r) => r.listenerRules.includes(rule))?.listenerArn ?? ''
      const plan = {
        listenerArn,
        routeArn: listenerArn,
        priority: Number(rule.Priority),
        conditions: rule.Conditions ?? [],
        actions: []
      }
      return { ...ruleReport(plan, addresses, input.header, input.value), ruleArn: rule.RuleArn }
    })
    const report: PreviewReport = { ...input, fleet: input.newFleet, state: 'open', rules }
    return new PreviewRoute(ctx, report, [], routes, input, [], addresses)
  }

  /** Rule ARNs open now. */
  get ruleArns(): string[] {
    return this.report.rules.flatMap((r) => (r.ruleArn ? [r.ruleArn] : []))
  }

  /**
   * Removes earlier preview rules of the pair, then creates one rule per route. `onCreated` hears
   * every rule as it exists, so that a run dying halfway leaves its post step the list to remove.
   */
  async open(onCreated: (ruleArns: string[]) => void): Promise<void> {
    const { elb } = this.ctx.clients
    for (const arn of this.stale) await deleteRule(elb, arn)
    if (this.stale.length) this.ctx.log.info(`Removed ${this.stale.length} preview rule(s) an earlier run left`)
    this.stale = []
    for (const [i, plan] of this.plans.entries()) {
      const ruleArn = await this.create(plan, i)
      this.report.rules[i].ruleArn = ruleArn
      this.report.state = 'open'
      onCreated(this.ruleArns)
      this.ctx.log.info(
        `Preview open on ${routeLabel(plan.listenerArn)} at priority ${this.report.rules[i].priority}: ${this.report.rules[i].curl ?? `header ${this.input.header}: ${this.input.value}`}`
      )
    }
  }

  /**
   * Removes every rule this preview opened. Never throws: the run's ending matters more than the
   * rule, which only answers requests that ask for it; what could not be removed is said loudly.
   */
  async close(warnings: string[]): Promise<void> {
    const open = this.ruleArns
    if (open.length === 0) return
    const left = await closePreviewRules(this.ctx.clients.elb, open, this.ctx.log)
    this.report.rules.forEach((r) => {
      if (r.ruleArn && !left.includes(r.ruleArn)) r.ruleArn = undefined
    })
    this.report.state = left.length ? 'left' : 'removed'
    if (left.length) {
      warnings.push(
        `Could not remove preview rule${left.length > 1 ? 's' : ''} ${left.join(', ')}: requests with ${this.input.header}: ${this.input.value} still reach ${targetGroupName(this.input.newFleet)}; delete ${left.length > 1 ? 'them' : 'it'} (aws elbv2 delete-rule --rule-arn ...), or the next deploy with preview-header does`
      )
    } else {
      this.ctx.log.info(`Preview closed: ${open.length} rule(s) removed`)
    }
  }

  private async create(plan: PreviewRulePlan, index: number): Promise<string> {
    const send = (p: PreviewRulePlan) =>
      createRule(this.ctx.clients.elb, {
        ListenerArn: p.listenerArn,
        Priority: p.priority,
        Conditions: p.conditions,
        Actions: p.actions,
        ...(p.transforms ? { Transforms: p.transforms } : {}),
        Tags: [{ Key: PREVIEW_TAG, Value: this.input.newFleet }]
      })
    try {
      return await send(plan)
    } catch (error) {
      // Someone took the priority since the rules were read: read them again and place it anew,
      // unless the user chose the priority, which then is simply taken.
      if ((error as Error)?.name !== 'PriorityInUseException' || this.input.priority !== undefined)
        throw previewError(error)
      const route = this.routes[index]
      route.listenerRules = await listenerRules(this.ctx.clients.elb, route.listenerArn)
      const created = this.ruleArns
      const [again] = planPreviewRules({ ...this.input, routes: [route], replaced: created })
      this.plans[index] = again
      this.report.rules[index] = ruleReport(again, this.addresses, this.input.header, this.input.value)
      return await send(again).catch((e: unknown) => {
        throw previewError(e)
      })
    }
  }
}

/** Deletes preview rules, a few tries each; returns the ARNs that could not be deleted. */
export async function closePreviewRules(
  elb: ElasticLoadBalancingV2Client,
  ruleArns: string[],
  log: Log
): Promise<string[]> {
  const left: string[] = []
  for (const arn of ruleArns) {
    try {
      await deleteRule(elb, arn)
    } catch (error) {
      log.warning(`Could not remove preview rule ${arn}: ${messageOf(error)}`)
      left.push(arn)
    }
  }
  return left
}

async function readListenerRules(
  elb: ElasticLoadBalancingV2Client,
  routes: RoutesOfThePair['routes']
): Promise<PreviewedRoute[]> {
  const byListener = new Map<string, Promise<Rule[]>>()
  return Promise.all(
    routes.map(async (route) => {
      const listenerArn = listenerOfRoute(route)
      if (!byListener.has(listenerArn)) byListener.set(listenerArn, listenerRules(elb, listenerArn))
      return { ...route, listenerArn, listenerRules: (await byListener.get(listenerArn)) as Rule[] }
    })
  )
}

/** This action's preview rules for the pair on the routes' listeners, found by their tag. */
async function previewRulesOf(
  elb: ElasticLoadBalancingV2Client,
  routes: PreviewedRoute[],
  pair: readonly string[]
): Promise<Rule[]> {
  const seen = new Set<string>()
  const candidates = routes
    .flatMap((r) => r.listenerRules)
    .filter((rule) => mayBePreviewRule(rule, pair) && !seen.has(rule.RuleArn ?? '') && seen.add(rule.RuleArn ?? ''))
  if (candidates.length === 0) return []
  const tags: Record<string, Record<string, string>> = {}
  for (let i = 0; i < candidates.length; i += 20) {
    Object.assign(
      tags,
      await readTags(
        elb,
        candidates.slice(i, i + 20).map((r) => r.RuleArn as string)
      )
    )
  }
  return candidates.filter((rule) => previewedFleet(tags[rule.RuleArn as string] ?? {}, pair))
}

/** Where each listener answers, for the curl lines; without it the lines name a placeholder. */
async function addressesOf(
  ctx: PreviewContext,
  routes: PreviewedRoute[],
  warnings: string[]
): Promise<Record<string, ListenerAddress>> {
  try {
    return await listenerAddresses(ctx.clients.elb, [...new Set(routes.map((r) => r.listenerArn))])
  } catch (error) {
    const message = `Could not read the load balancer's DNS name for the preview's curl line (${messageOf(error)}); grant elasticloadbalancing:DescribeLoadBalancers`
    ctx.log.warning(message)
    warnings.push(message)
    return {}
  }
}

function ruleReport(
  plan: Pick<PreviewRulePlan, 'listenerArn' | 'routeArn' | 'priority' | 'conditions'>,
  addresses: Record<string, ListenerAddress>,
  header: string,
  value: string
): PreviewRuleReport {
  const address = addresses[plan.listenerArn]
  return {
    listenerArn: plan.listenerArn,
    routeArn: plan.routeArn,
    priority: plan.priority,
    ...(address ? { curl: curlLine(plan, address, header, value) } : {})
  }
}

function previewError(error: unknown): DeployError {
  const name = (error as Error)?.name ?? 'Error'
  const hint = /AccessDenied|not authorized/i.test(`${name} ${messageOf(error)}`)
    ? 'grant elasticloadbalancing:CreateRule, and AddTags on listener rules for CreateRule (see the IAM policy in the README)'
    : /TooManyRules|TooManyConditionValues|TooManyTags/.test(name)
      ? 'the listener is at an ALB limit: drop preview-header, or make room'
      : 'run the deploy again, or drop preview-header'
  return new DeployError(`Could not open the preview route (${name}: ${messageOf(error)}); ${hint}`)
}
