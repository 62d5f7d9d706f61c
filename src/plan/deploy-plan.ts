import type { Config } from '../config/inputs.js'
import type { Pair, RouteWeights, Weights } from './forward-action.js'

/** One traffic step: this percent of traffic on the new fleet, held this long. */
export interface CanaryStep {
  weight: number
  holdMs: number
}

/**
 * The steps a deploy takes: the configured steps above where the new fleet stands now. A promote
 * always ends at 100, since that is what promoting means; a deploy whose last step is under 100
 * pauses there for a later, perhaps approved, promote.
 */
export function planSteps(
  config: Pick<Config, 'trafficSteps' | 'stepWaitMs'>,
  currentWeight: number,
  endAtFull: boolean
): CanaryStep[] {
  const weights = config.trafficSteps.filter((w) => w > currentWeight)
  if (endAtFull && weights[weights.length - 1] !== 100) weights.push(100)
  return weights.map((weight) => ({ weight, holdMs: config.stepWaitMs }))
}

/** The pair's weights with `percent` of traffic on the new fleet. */
export function splitWeights(newFleet: string, oldFleet: string, percent: number): Weights {
  return { [newFleet]: percent, [oldFleet]: 100 - percent }
}

/**
 * What each route gets back on failure: all traffic on the stable fleet. A route that started
 * with all traffic on it gets its starting weights back exactly; a route caught mid-canary does
 * not, because the new fleet has just failed a check and must not keep any traffic.
 */
export function planRestore(routes: RouteWeights[], stable: string, newFleet: string): Record<string, Weights> {
  return Object.fromEntries(
    routes.map(({ route, weights }) => {
      const startedStable = weights[newFleet] === 0 && weights[stable] > 0
      return [route.arn, startedStable ? { ...weights } : { [stable]: 100, [newFleet]: 0 }]
    })
  )
}

/** What a run will do, decided before it changes anything: the dry run shows exactly this. */
export interface PlanReport {
  newFleet: string
  oldFleet: string
  instanceIds: string[]
  steps: CanaryStep[]
  /** Weights written back on failure, per route ARN. */
  restore: Record<string, Weights>
  /** True when the last step is under 100: the run stops there for a later promote. */
  pauses: boolean
  /** What every hold watches, one line each (from the hold checks). */
  checks: string[]
  /** What is done to the new fleet before the commands (its Auto Scaling group), one line each. */
  prepare?: string[]
  /** The run-once hooks, one line each, in the order they run (from run-once-plan). */
  hooks?: string[]
}

export interface DeployPlanInput {
  config: Pick<Config, 'trafficSteps' | 'stepWaitMs'>
  pair: Pair
  newFleet: string
  routes: RouteWeights[]
  instanceIds: string[]
  currentWeight: number
  endAtFull: boolean
  checks: string[]
  prepare?: string[]
}

/** The whole plan: one function serves the dry-run and the real run, so they cannot differ. */
export function planDeploy(input: DeployPlanInput): PlanReport {
  const oldFleet = input.pair.find((arn) => arn !== input.newFleet) ?? ''
  const steps = planSteps(input.config, input.currentWeight, input.endAtFull)
  const last = steps[steps.length - 1]
  return {
    newFleet: input.newFleet,
    oldFleet,
    instanceIds: input.instanceIds,
    steps,
    restore: planRestore(input.routes, oldFleet, input.newFleet),
    // No step at all is canary-steps 0: stage the new fleet and pause before any traffic.
    pauses: !input.endAtFull && (last === undefined || last.weight < 100),
    checks: input.checks,
    ...(input.prepare ? { prepare: input.prepare } : {})
  }
}
