import { ARN_EXAMPLE, type ArnKind, parseArn, type ParsedArn } from './arn.js'
import { CANARY_ANALYSIS_DEFAULTS, type CanaryAnalysisConfig, parseCanaryAnalysis } from './canary-analysis.js'
import { formatDuration, parseDurationMs } from './duration.js'
import { InputError, InputErrors } from './errors.js'
import { HOOK_INPUT_DEFAULTS, type HookInputs, parseHookInputs } from './hook-inputs.js'

export type Operation = 'deploy' | 'promote' | 'rollback' | 'status' | 'retire'
export type Strategy = 'all-at-once' | 'canary'
export type Stickiness = { mode: 'keep' } | { mode: 'off' } | { mode: 'on'; durationSeconds: number }

/** Everything the action was asked to do, validated; built once from the inputs. */
export interface Config extends HookInputs {
  operation: Operation
  region: string
  listenerArns: string[]
  ruleArns: string[]
  /** Given only when the forward action holds other than exactly two groups. */
  pair?: { blue: string; green: string }
  document: string
  /** SSM document parameters, `commands` merged in for AWS-RunShellScript. */
  documentParameters: Record<string, string[]>
  commandTimeoutMs: number
  maxConcurrency: string
  maxErrors: string
  cloudWatchLogGroup?: string
  strategy: Strategy
  /** Percent of traffic on the new fleet at each step; `[100]` for all-at-once. */
  trafficSteps: number[]
  stepWaitMs: number
  healthTimeoutMs: number
  alarms: string[]
  /** The canary judge: the new fleet against the stable one on the load balancer's metrics. */
  canaryAnalysis: CanaryAnalysisConfig
  stickiness: Stickiness
  autoRollback: boolean
  dryRun: boolean
  timeoutMs: number
  version: string
  /** Inputs that are valid but will not do what their author may expect; logged as warnings. */
  warnings: string[]
  /** Root of the Parameter Store names the action writes (fleet versions, retired fleets). */
  parameterPrefix: string
}

/** Raw input values by name, as `core.getInput` returns them ('' when not set). */
export type RawInputs = Record<string, string>

export const INPUT_DEFAULTS: Readonly<Record<string, string>> = {
  operation: 'deploy',
  'listener-arns': '',
  'rule-arns': '',
  'blue-target-group-arn': '',
  'green-target-group-arn': '',
  commands: '',
  document: 'AWS-RunShellScript',
  'document-parameters': '',
  'working-directory': '',
  'command-timeout': '10m',
  'max-concurrency': '100%',
  'max-errors': '0',
  'cloudwatch-log-group': '',
  strategy: 'all-at-once',
  'canary-steps': '10,50,100',
  'step-wait': '1m',
  'health-timeout': '5m',
  alarms: '',
  stickiness: 'keep',
  'auto-rollback': 'true',
  'dry-run': 'false',
  timeout: '60m',
  version: '',
  'parameter-prefix': '/bluegreen',
  ...CANARY_ANALYSIS_DEFAULTS,
  ...HOOK_INPUT_DEFAULTS
}

// SSM's own patterns for the rate controls (SendCommand API reference).
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/
const MAX_ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/
// SSM document names, and CloudWatch Logs group names.
const DOCUMENT_NAME = /^([a-zA-Z0-9_\-.:/]{3,128})$/
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/
// The version is stored in a tag value: ELBv2 allows these characters, up to 256 of them.
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u
const MAX_EXECUTION_TIMEOUT_S = 172_800
const MAX_STICKINESS_S = 604_800

/**
 * Turns the action's inputs into a Config, or throws what is wrong with them: an InputError for
 * one input, InputErrors naming every input that cannot be used, so that one run reports them
 * all. Pure: the environment it needs (region, commit) is passed in.
 */
export function parseConfig(raw: RawInputs, env: { region?: string; sha?: string } = {}): Config {
  const input = (name: string): string => (raw[name] ?? '').trim() || INPUT_DEFAULTS[name] || ''
  const given = (name: string): boolean => (raw[name] ?? '').trim() !== ''
  const problems: InputError[] = []
  // Each input is parsed on its own; a bad one is noted and the others are still checked.
  const check = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse()
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      problems.push(error)
      return fallback
    }
  }

  const operation = check(
    () => oneOf(input, 'operation', ['deploy', 'promote', 'rollback', 'status', 'retire'] as const),
    'status'
  )
  const listeners = check(() => arnList(input, 'listener-arns', 'listener'), undefined)
  const rules = check(() => arnList(input, 'rule-arns', 'listener-rule'), undefined)
  const pair = check(() => parsePair(input), null)
  let region = ''
  if (listeners && rules && pair !== null) {
    if (listeners.length + rules.length === 0) {
      problems.push(
        new InputError('listener-arns', '', 'give at least one listener ARN in listener-arns or rule ARN in rule-arns')
      )
    } else {
      const all = [...listeners, ...rules, ...(pair ? [pair.blue, pair.green] : [])]
      region = check(() => sameRegionAndAccount(all, env.region, pair), '')
    }
  }

  const strategy = check(() => oneOf(input, 'strategy', ['all-at-once', 'canary'] as const), 'all-at-once')
  const canarySteps = check(() => parseCanarySteps(input('canary-steps')), [100])
  const commandTimeoutMs = check(() => duration(input, 'command-timeout', 1000, MAX_EXECUTION_TIMEOUT_S * 1000), 0)
  const document = input('document')
  if (!DOCUMENT_NAME.test(document)) {
    problems.push(
      new InputError(
        'document',
        document,
        'accepted: an SSM document name or ARN (3-128 of letters, digits, _ - . : /)'
      )
    )
  }
  const documentParameters = check(() => parseDocumentParameters(input, operation, document), {})

  const maxConcurrency = input('max-concurrency')
  if (!MAX_CONCURRENCY.test(maxConcurrency)) {
    problems.push(
      new InputError(
        'max-concurrency',
        maxConcurrency,
        'accepted: a number of instances from 1 (e.g. 10) or a percentage from 1% to 100%'
      )
    )
  }
  const maxErrors = input('max-errors')
  if (!MAX_ERRORS.test(maxErrors)) {
    problems.push(
      new InputError(
        'max-errors',
        maxErrors,
        'accepted: a number of instances from 0 (e.g. 2) or a percentage from 0% to 100%'
      )
    )
  }
  const cloudWatchLogGroup = input('cloudwatch-log-group') || undefined
  if (cloudWatchLogGroup && !LOG_GROUP.test(cloudWatchLogGroup)) {
    problems.push(
      new InputError(
        'cloudwatch-log-group',
        cloudWatchLogGroup,
        'accepted: a CloudWatch Logs group name (1-512 of letters, digits, . - _ / #)'
      )
    )
  }

  const version = input('version') || env.sha || ''
  if (operation === 'deploy' && !TAG_VALUE.test(version)) {
    problems.push(
      new InputError(
        'version',
        version,
        'accepted: 1-256 letters, digits, spaces and _ . : / = + - @ (defaults to the commit SHA)'
      )
    )
  }
  const stepWaitMs = check(() => duration(input, 'step-wait', 0, 24 * 3600_000), 0)
  const healthTimeoutMs = check(() => duration(input, 'health-timeout', 1000, 24 * 3600_000), 0)
  const alarms = check(() => parseAlarms(input('alarms')), [])
  const canaryAnalysis = parseCanaryAnalysis(input, check)
  const stickiness = check((): Stickiness => parseStickiness(input('stickiness')), { mode: 'keep' })
  const autoRollback = check(() => bool(input, 'auto-rollback'), true)
  const dryRun = check(() => bool(input, 'dry-run'), false)
  const timeoutMs = check(() => duration(input, 'timeout', 1000, 6 * 3600_000), 0)
  const parameterPrefix = check(() => parseParameterPrefix(input('parameter-prefix')), '/bluegreen')
  const hooks = check(() => parseHookInputs(input, { operation, strategy, canarySteps, version }), NO_HOOKS)

  // A promote continues a canary, whatever strategy says: canary-steps are its steps.
  const trafficSteps = strategy === 'canary' || operation === 'promote' ? canarySteps : [100]
  // A deploy holds every step for step-wait: a deadline shorter than the holds is certain to
  // pass mid-canary and roll back a healthy deploy, so it is refused before anything moves. (A
  // promote holds only the steps above the paused weight: it checks once it knows them.)
  if (operation === 'deploy' && timeoutMs > 0 && !problems.some((p) => ['step-wait', 'timeout'].includes(p.input))) {
    const overrun = holdsOverrunTimeout(trafficSteps.length, stepWaitMs, timeoutMs, input('timeout'))
    if (overrun) problems.push(overrun)
  }

  if (problems.length === 1) throw problems[0]
  if (problems.length > 1) throw new InputErrors(problems)

  const warnings: string[] = []
  if (operation === 'deploy' && strategy === 'all-at-once' && given('canary-steps')) {
    warnings.push(
      `canary-steps (${input('canary-steps')}) is not used: strategy is all-at-once, so the deploy moves all traffic in one step; set strategy: canary to deploy in those steps`
    )
  }

  return {
    operation,
    region,
    listenerArns: listeners ?? [],
    ruleArns: rules ?? [],
    pair: pair ?? undefined,
    document,
    documentParameters,
    commandTimeoutMs,
    maxConcurrency,
    maxErrors,
    cloudWatchLogGroup,
    strategy,
    trafficSteps,
    stepWaitMs,
    healthTimeoutMs,
    alarms,
    canaryAnalysis,
    stickiness,
    autoRollback,
    dryRun,
    timeoutMs,
    version,
    warnings,
    parameterPrefix,
    ...hooks
  }
}

const NO_HOOKS: HookInputs = { beforeTrafficCommands: [], contractCommands: [], allowRollbackPastContract: false }

/**
 * The InputError for a `timeout` that cannot contain `holds` traffic holds of `stepWaitMs` each
 * (nothing would be left for the commands and shifts), or undefined when they fit.
 */
export function holdsOverrunTimeout(
  holds: number,
  stepWaitMs: number,
  timeoutMs: number,
  timeoutText = formatDuration(timeoutMs)
): InputError | undefined {
  const holdsMs = holds * stepWaitMs
  if (holdsMs < timeoutMs) return undefined
  const steps = holds === 1 ? '1 step' : `${holds} steps`
  return new InputError(
    'timeout',
    timeoutText,
    `accepted: a deadline longer than the traffic holds it must contain (${steps} × step-wait ${formatDuration(stepWaitMs)} = ${formatDuration(holdsMs)}); raise timeout or lower step-wait`
  )
}

// Parameter Store: names are paths of letters, digits and _ . - /, at most 15 levels; `aws` and
// `ssm` at the root are reserved. The action appends at most 3 levels (/fleet/<group>/version).
const PARAMETER_PATH = /^(\/[A-Za-z0-9_.-]+)+$/
const MAX_PREFIX_LEVELS = 12
const MAX_PREFIX_LENGTH = 900

export function parseParameterPrefix(value: string): string {
  const prefix = value.replace(/\/+$/, '')
  const accepted =
    'accepted: a Parameter Store path like /bluegreen or /teams/web/deploys: starts with /, letters, digits and _ . - between the slashes, at most 12 levels, not under /aws or /ssm'
  const levels = prefix.split('/').length - 1
  if (!PARAMETER_PATH.test(prefix) || levels > MAX_PREFIX_LEVELS || prefix.length > MAX_PREFIX_LENGTH) {
    throw new InputError('parameter-prefix', value, accepted)
  }
  if (/^\/(aws|ssm)/i.test(prefix)) throw new InputError('parameter-prefix', value, accepted)
  return prefix
}

type Input = (name: string) => string

function oneOf<T extends string>(input: Input, name: string, accepted: readonly T[]): T {
  const value = input(name)
  if (!(accepted as readonly string[]).includes(value)) {
    throw new InputError(name, value, `accepted: ${accepted.join(', ')}`)
  }
  return value as T
}

function bool(input: Input, name: string): boolean {
  const value = input(name)
  // The same spellings the YAML 1.2 core schema and @actions/core's getBooleanInput take.
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, value, 'accepted: true or false')
}

function duration(input: Input, name: string, minMs: number, maxMs: number): number {
  const value = input(name)
  const ms = parseDurationMs(value)
  const range = `from ${minMs === 0 ? '0' : `${minMs / 1000}s`} to ${maxMs / 3600_000}h`
  if (ms === undefined || ms < minMs || ms > maxMs) {
    throw new InputError(name, value, `accepted: a duration like 90s, 5m, 1h or plain seconds, ${range}`)
  }
  return ms
}

/** Comma- or newline-separated values, blanks dropped, duplicates kept out. */
export function splitList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(/[\n,]/)
        .map((v) => v.trim())
        .filter(Boolean)
    )
  ]
}

function arnList(input: Input, name: string, kind: ArnKind): string[] {
  const arns = splitList(input(name))
  for (const arn of arns) {
    if (!parseArn(arn, kind)) {
      throw new InputError(
        name,
        arn,
        `accepted: ${kind} ARNs of an Application Load Balancer like ${ARN_EXAMPLE[kind]}, separated by commas or newlines`
      )
    }
  }
  return arns
}

function parsePair(input: Input): Config['pair'] {
  const blue = input('blue-target-group-arn')
  const green = input('green-target-group-arn')
  if (!blue && !green) return undefined
  if (!blue || !green) {
    const missing = blue ? 'green-target-group-arn' : 'blue-target-group-arn'
    throw new InputError(
      missing,
      '',
      'give blue-target-group-arn and green-target-group-arn together, or neither to discover the pair'
    )
  }
  for (const [name, arn] of [
    ['blue-target-group-arn', blue],
    ['green-target-group-arn', green]
  ] as const) {
    if (!parseArn(arn, 'targetgroup')) {
      throw new InputError(name, arn, `accepted: a target group ARN like ${ARN_EXAMPLE.targetgroup}`)
    }
  }
  if (blue === green) {
    throw new InputError('green-target-group-arn', green, 'accepted: a target group other than blue-target-group-arn')
  }
  return { blue, green }
}

function sameRegionAndAccount(arns: string[], envRegion: string | undefined, pair: Config['pair']): string {
  const parsed = arns.map(
    (arn) => parseArn(arn, 'listener') ?? parseArn(arn, 'listener-rule') ?? parseArn(arn, 'targetgroup')
  ) as ParsedArn[]
  const first = parsed[0]
  for (const p of parsed) {
    if (p.region !== first.region || p.account !== first.account || p.partition !== first.partition) {
      throw new InputError(
        inputOf(p, pair),
        p.arn,
        `accepted: ARNs in one account and region (the first one given is in ${first.account}, ${first.region})`
      )
    }
  }
  if (envRegion && envRegion !== first.region) {
    throw new InputError(
      inputOf(first, pair),
      first.arn,
      `accepted: ARNs in the region the AWS credentials are set up for (AWS_REGION is ${envRegion})`
    )
  }
  return first.region
}

function inputOf(arn: ParsedArn, pair?: Config['pair']): string {
  if (arn.kind === 'listener') return 'listener-arns'
  if (arn.kind === 'listener-rule') return 'rule-arns'
  return arn.arn === pair?.green ? 'green-target-group-arn' : 'blue-target-group-arn'
}

export function parseCanarySteps(value: string): number[] {
  // Comma- or newline-separated, like every list input.
  const parts = value
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter(Boolean)
  const accepted =
    'accepted: percentages of traffic for the new fleet, integers 1-100 in increasing order separated by commas or newlines, e.g. 10,50,100 (a last step under 100 pauses for a later promote), or 0 alone to deploy and pause before any traffic'
  // 0 alone: deploy, open the preview, and pause with no traffic on the new fleet.
  if (parts.length === 1 && parts[0] === '0') return [0]
  if (parts.length === 0) throw new InputError('canary-steps', value, accepted)
  let previous = 0
  for (const part of parts) {
    const n = Number(part)
    if (!/^\d+$/.test(part) || n < 1 || n > 100 || n <= previous) throw new InputError('canary-steps', value, accepted)
    previous = n
  }
  return parts.map(Number)
}

function parseAlarms(value: string): string[] {
  const alarms = splitList(value)
  for (const alarm of alarms) {
    // CloudWatch alarm names: 1-255 printable characters.
    if (alarm.length > 255 || /[\u0000-\u001f]/.test(alarm)) {
      throw new InputError(
        'alarms',
        alarm,
        'accepted: CloudWatch alarm names (up to 255 characters each), separated by commas or newlines'
      )
    }
  }
  if (alarms.length > 100) {
    throw new InputError('alarms', value, 'accepted: at most 100 alarm names')
  }
  return alarms
}

function parseStickiness(value: string): Stickiness {
  if (value === 'keep') return { mode: 'keep' }
  if (value === 'off') return { mode: 'off' }
  const ms = parseDurationMs(value)
  if (ms === undefined || ms < 1000 || ms > MAX_STICKINESS_S * 1000) {
    throw new InputError(
      'stickiness',
      value,
      'accepted: keep, off, or how long a client stays on one fleet, a duration from 1s to 168h (e.g. 1h)'
    )
  }
  return { mode: 'on', durationSeconds: Math.round(ms / 1000) }
}

function parseDocumentParameters(input: Input, operation: Operation, document: string): Record<string, string[]> {
  const text = input('document-parameters')
  let parameters: Record<string, string[]> = {}
  if (text) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new InputError(
        'document-parameters',
        text,
        'accepted: a JSON object of parameter names to strings or arrays of strings'
      )
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InputError(
        'document-parameters',
        text,
        'accepted: a JSON object of parameter names to strings or arrays of strings'
      )
    }
    for (const [key, v] of Object.entries(parsed)) {
      const values = typeof v === 'string' ? [v] : v
      if (!Array.isArray(values) || !values.every((s) => typeof s === 'string')) {
        throw new InputError(
          'document-parameters',
          text,
          `accepted: a JSON object whose values are strings or arrays of strings ("${key}" is not)`
        )
      }
      parameters[key] = values
    }
  }
  const commands = input('commands')
    .split('\n')
    .filter((line) => line.trim() !== '')
  if (commands.length > 0) {
    if (parameters.commands) {
      throw new InputError(
        'commands',
        commands[0],
        'give the commands either in commands or in document-parameters, not both'
      )
    }
    parameters = { ...parameters, commands }
  }
  const workingDirectory = input('working-directory')
  if (workingDirectory) parameters = { ...parameters, workingDirectory: [workingDirectory] }

  if (operation === 'deploy' && Object.keys(parameters).length === 0) {
    throw new InputError(
      'commands',
      '',
      'a deploy needs commands (shell lines run on each idle instance) or document-parameters'
    )
  }
  const isShellDocument = /^AWS-Run(Shell|PowerShell)Script$/.test(document)
  if (operation === 'deploy' && isShellDocument && !parameters.commands?.length) {
    throw new InputError('commands', '', `the ${document} document runs commands: give them in commands`)
  }
  return parameters
}
