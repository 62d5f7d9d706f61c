// SSM Run Command operations the action calls, over the shared world; execution itself is the
// CommandExecutor's job. Parameter Store lives in ssm-parameters.ts and is served from here too.

import { randomUUID } from 'node:crypto'
import type { Command, Instance, Invocation, InvocationStatus } from '../world.js'
import type { Handler, ServiceContext } from './context.js'
import { ApiError } from './errors.js'
import {
  epochSeconds,
  optBool,
  optNumber,
  optObject,
  optObjects,
  optString,
  optStrings,
  type JsonObject
} from './json-input.js'
import { paginate } from './pagination.js'
import { parameterOperations } from './ssm-parameters.js'
import { summarize } from './ssm-status.js'
import { intRange, lengthRange, oneOf, pattern, required } from './validate.js'

const V = 'ValidationException'
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/
const MAX_ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/
const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/
const EXECUTION_TIMEOUT = /^(([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800))$/
const STDOUT_LIMIT = 24000
const STDERR_LIMIT = 8000
const PLUGIN_OUTPUT_LIMIT = 2500
const FILTER_KEYS = ['InvokedAfter', 'InvokedBefore', 'Status', 'ExecutionStage', 'DocumentName'] as const

interface DocumentSpec {
  plugin: string
  platform: Instance['platformType']
}

/** The shell documents the sandbox can run; both take the same parameters. */
const DOCUMENTS: Record<string, DocumentSpec> = {
  'AWS-RunShellScript': { plugin: 'aws:runShellScript', platform: 'Linux' },
  'AWS-RunPowerShellScript': { plugin: 'aws:runPowerShellScript', platform: 'Windows' }
}

/** Targets as sent, remembered for ListCommands (the world keeps only the resolved instances). */
const requestedTargets = new WeakMap<Command, Array<{ Key: string; Values: string[] }>>()

const pluginName = (c: Command): string => DOCUMENTS[c.documentName]?.plugin ?? 'aws:runShellScript'
const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString())

function validateDocumentParameters(params: Record<string, string[]>): void {
  const allowed = ['commands', 'workingDirectory', 'executionTimeout']
  for (const name of Object.keys(params)) {
    if (!allowed.includes(name))
      throw new ApiError('InvalidParameters', `Parameter "${name}" is not defined in the document.`)
  }
  if (!params.commands || params.commands.length === 0) {
    throw new ApiError('InvalidParameters', 'Parameters are not valid: commands is required')
  }
  for (const single of ['workingDirectory', 'executionTimeout']) {
    if (params[single] && params[single].length > 1) {
      throw new ApiError('InvalidParameters', `Parameter "${single}" accepts a single value`)
    }
  }
  const timeout = params.executionTimeout?.[0]
  if (timeout !== undefined && !EXECUTION_TIMEOUT.test(timeout)) {
    throw new ApiError(
      'InvalidParameters',
      `Parameter "executionTimeout" "${timeout}" does not match the allowed pattern ${EXECUTION_TIMEOUT.source}`
    )
  }
}

function readParameters(body: JsonObject): Record<string, string[]> {
  const raw = optObject(body, 'Parameters') ?? {}
  const out: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw new ApiError('SerializationException', `Expected list of strings for Parameters.${k}`)
    }
    out[k] = v as string[]
  }
  return out
}

function readTargets(body: JsonObject): Array<{ Key: string; Values: string[] }> | undefined {
  const raw = optObjects(body, 'Targets')
  if (!raw) return undefined
  lengthRange(V, raw, 'Targets', 0, 5)
  return raw.map((t) => {
    const key = required(V, optString(t, 'Key'), 'Key')
    const values = optStrings(t, 'Values') ?? []
    lengthRange(V, key, 'Key', 1, 163)
    lengthRange(V, values, 'Values', 0, 50)
    return { Key: key, Values: values }
  })
}

function checkInstances(ctx: ServiceContext, ids: string[], doc: DocumentSpec, docName: string): void {
  const bad = ids.filter((id) => {
    const inst = ctx.world.instances.get(id)
    return !inst || !inst.managedBySsm || inst.pingStatus !== 'Online'
  })
  if (bad.length > 0) {
    throw new ApiError(
      'InvalidInstanceId',
      `Instances [[${bad.join(', ')}]] not in a valid state for account ${ctx.world.accountId}`
    )
  }
  const wrongPlatform = ids.filter((id) => ctx.world.instances.get(id)!.platformType !== doc.platform)
  if (wrongPlatform.length > 0) {
    throw new ApiError(
      'UnsupportedPlatformType',
      `The document ${docName} is not supported on the platform of instances [${wrongPlatform.join(', ')}]`
    )
  }
}

function commandShape(c: Command, region: string) {
  const s = summarize(c)
  c.status = s.status
  const targets = requestedTargets.get(c)
  return {
    CommandId: c.commandId,
    DocumentName: c.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: c.comment,
    ExpiresAfter: epochSeconds(c.requestedAt + (c.timeoutSeconds ?? 3600) * 1000),
    Parameters: c.parameters,
    InstanceIds: targets ? [] : c.instanceIds,
    Targets: targets ?? [],
    RequestedDateTime: epochSeconds(c.requestedAt),
    Status: s.status,
    StatusDetails: s.statusDetails,
    OutputS3Region: region,
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
    MaxConcurrency: c.maxConcurrency,
    MaxErrors: c.maxErrors,
    TargetCount: s.targetCount,
    CompletedCount: s.completedCount,
    ErrorCount: s.errorCount,
    DeliveryTimedOutCount: s.deliveryTimedOutCount,
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
    CloudWatchOutputConfig: {
      CloudWatchLogGroupName: c.cloudWatchOutput?.CloudWatchLogGroupName ?? '',
      CloudWatchOutputEnabled: c.cloudWatchOutput?.CloudWatchOutputEnabled ?? false
    },
    TimeoutSeconds: c.timeoutSeconds ?? 3600
  }
}

/** Statuses outside an API enum are reported as the closest member; StatusDetails keeps the detail. */
function apiInvocationStatus(s: InvocationStatus): string {
  return s === 'Undeliverable' || s === 'Terminated' ? 'Failed' : s
}

function pluginStatus(s: InvocationStatus): string {
  if (s === 'Delayed') return 'Pending'
  if (s === 'Cancelling') return 'InProgress'
  return apiInvocationStatus(s)
}

const defaultDetails = (inv: Invocation): string =>
  inv.statusDetails || (inv.status === 'InProgress' ? 'In Progress' : inv.status)

function pluginOutput(inv: Invocation): string {
  const out = inv.stderr ? `${inv.stdout}\n----------ERROR-------\n${inv.stderr}` : inv.stdout
  return out.slice(0, PLUGIN_OUTPUT_LIMIT)
}

function invocationShape(c: Command, inv: Invocation, details: boolean) {
  return {
    CommandId: c.commandId,
    InstanceId: inv.instanceId,
    InstanceName: '',
    Comment: c.comment,
    DocumentName: c.documentName,
    DocumentVersion: '$DEFAULT',
    RequestedDateTime: epochSeconds(inv.requestedAt),
    Status: apiInvocationStatus(inv.status),
    StatusDetails: defaultDetails(inv),
    TraceOutput: '',
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    CommandPlugins: details
      ? [
          {
            Name: pluginName(c),
            Status: pluginStatus(inv.status),
            StatusDetails: defaultDetails(inv),
            ResponseCode: inv.responseCode,
            ...(inv.startedAt !== undefined ? { ResponseStartDateTime: epochSeconds(inv.startedAt) } : {}),
            ...(inv.finishedAt !== undefined ? { ResponseFinishDateTime: epochSeconds(inv.finishedAt) } : {}),
            Output: pluginOutput(inv),
            StandardOutputUrl: '',
            StandardErrorUrl: '',
            OutputS3Region: '',
            OutputS3BucketName: '',
            OutputS3KeyPrefix: ''
          }
        ]
      : [],
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
    CloudWatchOutputConfig: {
      CloudWatchLogGroupName: c.cloudWatchOutput?.CloudWatchLogGroupName ?? '',
      CloudWatchOutputEnabled: c.cloudWatchOutput?.CloudWatchOutputEnabled ?? false
    }
  }
}

/** Invocations stay invisible for a while after SendCommand, as on the real service. */
const visible = (ctx: ServiceContext, c: Command): boolean => ctx.now() >= c.requestedAt + ctx.consistencyDelayMs()

function readCommandFilters(body: JsonObject): Array<(c: Command, inv?: Invocation) => boolean> {
  const filters = optObjects(body, 'Filters')
  if (!filters) return []
  lengthRange(V, filters, 'Filters', 1, 5)
  return filters.map((f) => {
    const key = required(V, optString(f, 'key'), 'key')
    const value = required(V, optString(f, 'value'), 'value')
    oneOf(V, key, 'key', FILTER_KEYS)
    switch (key) {
      case 'InvokedAfter':
      case 'InvokedBefore': {
        const t = Date.parse(value)
        if (Number.isNaN(t))
          throw new ApiError('InvalidFilterValue', `Filter value '${value}' is not a valid ISO 8601 date`)
        return (c) => (key === 'InvokedAfter' ? c.requestedAt >= t : c.requestedAt <= t)
      }
      case 'Status':
        return (c, inv) => (inv ? apiInvocationStatus(inv.status) : summarize(c).status) === value
      case 'ExecutionStage':
        if (value !== 'Executing' && value !== 'Complete') {
          throw new ApiError('InvalidFilterValue', `Filter value '${value}' must be Executing or Complete`)
        }
        return (c) =>
          (['Pending', 'InProgress', 'Cancelling'].includes(summarize(c).status) ? 'Executing' : 'Complete') === value
      default:
        return (c) => c.documentName === value
    }
  })
}

function commandIdParam(body: JsonObject, isRequired: boolean): string | undefined {
  const id = optString(body, 'CommandId')
  if (isRequired) required(V, id, 'CommandId')
  lengthRange(V, id, 'CommandId', 36, 36)
  return id
}

function instanceIdParam(body: JsonObject, isRequired: boolean): string | undefined {
  const id = optString(body, 'InstanceId')
  if (isRequired) required(V, id, 'InstanceId')
  pattern(V, id, 'InstanceId', INSTANCE_ID)
  return id
}

const newestFirst = (a: Command, b: Command): number => b.requestedAt - a.requestedAt

// ---- operations -----------------------------------------------------------------------------

const sendCommand: Handler<JsonObject> = (body, ctx) => {
  const documentName = required(V, optString(body, 'DocumentName'), 'DocumentName')
  const instanceIds = optStrings(body, 'InstanceIds')
  const targets = readTargets(body)
  const comment = optString(body, 'Comment') ?? ''
  const timeoutSeconds = optNumber(body, 'TimeoutSeconds')
  const maxConcurrency = optString(body, 'MaxConcurrency')
  const maxErrors = optString(body, 'MaxErrors')
  lengthRange(V, instanceIds, 'InstanceIds', 0, 50)
  lengthRange(V, comment, 'Comment', 0, 100)
  intRange(V, timeoutSeconds, 'TimeoutSeconds', 30, 2592000)
  lengthRange(V, maxConcurrency, 'MaxConcurrency', 1, 7)
  pattern(V, maxConcurrency, 'MaxConcurrency', MAX_CONCURRENCY)
  lengthRange(V, maxErrors, 'MaxErrors', 1, 7)
  pattern(V, maxErrors, 'MaxErrors', MAX_ERRORS)
  const parameters = readParameters(body)
  const cw = optObject(body, 'CloudWatchOutputConfig')

  const hasIds = (instanceIds?.length ?? 0) > 0
  const hasTargets = (targets?.length ?? 0) > 0
  if (hasIds === hasTargets) {
    throw new ApiError('InvalidParameters', 'Specify either InstanceIds or Targets, but not both')
  }
  const doc = DOCUMENTS[documentName]
  if (!doc) throw new ApiError('InvalidDocument', `Document with name ${documentName} does not exist.`)
  validateDocumentParameters(parameters)

  // Only instance-id targets resolve in the sandbox: its instances carry no tags.
  const resolved = hasIds ? instanceIds! : targets!.filter((t) => t.Key === 'InstanceIds').flatMap((t) => t.Values)
  const ids = [...new Set(resolved)]
  checkInstances(ctx, ids, doc, documentName)

  const now = ctx.now()
  const command: Command = {
    commandId: randomUUID(),
    documentName,
    parameters,
    comment,
    instanceIds: ids,
    maxConcurrency: maxConcurrency ?? '50',
    maxErrors: maxErrors ?? '0',
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(cw
      ? {
          cloudWatchOutput: {
            CloudWatchLogGroupName: optString(cw, 'CloudWatchLogGroupName'),
            CloudWatchOutputEnabled: optBool(cw, 'CloudWatchOutputEnabled')
          }
        }
      : {}),
    requestedAt: now,
    status: 'Pending',
    invocations: new Map(
      ids.map((id) => [
        id,
        {
          instanceId: id,
          status: 'Pending',
          statusDetails: 'Pending',
          responseCode: -1,
          stdout: '',
          stderr: '',
          requestedAt: now
        }
      ])
    )
  }
  if (hasTargets) requestedTargets.set(command, targets!)
  ctx.world.commands.set(command.commandId, command)
  ctx.executor.start(command)
  return { Command: commandShape(command, ctx.world.region) }
}

const listCommandInvocations: Handler<JsonObject> = (body, ctx) => {
  const commandId = commandIdParam(body, false)
  const instanceId = instanceIdParam(body, false)
  const maxResults = optNumber(body, 'MaxResults')
  intRange(V, maxResults, 'MaxResults', 1, 50)
  const details = optBool(body, 'Details') ?? false
  const filters = readCommandFilters(body)
  const commands = commandId
    ? [ctx.world.commands.get(commandId)].filter((c): c is Command => c !== undefined)
    : [...ctx.world.commands.values()].sort(newestFirst)
  const rows = commands
    .filter((c) => visible(ctx, c))
    .flatMap((c) => [...c.invocations.values()].map((inv) => ({ c, inv })))
    .filter(({ c, inv }) => (!instanceId || inv.instanceId === instanceId) && filters.every((f) => f(c, inv)))
  const p = paginate(
    'ListCommandInvocations',
    rows,
    optString(body, 'NextToken'),
    maxResults ?? 50,
    () => new ApiError('InvalidNextToken', 'The specified token is not valid.')
  )
  return {
    CommandInvocations: p.items.map(({ c, inv }) => invocationShape(c, inv, details)),
    ...(p.next ? { NextToken: p.next } : {})
  }
}

const getCommandInvocation: Handler<JsonObject> = (body, ctx) => {
  const commandId = commandIdParam(body, true)!
  const instanceId = instanceIdParam(body, true)!
  const plugin = optString(body, 'PluginName')
  lengthRange(V, plugin, 'PluginName', 4, 256)
  const c = ctx.world.commands.get(commandId)
  const inv = c && visible(ctx, c) ? c.invocations.get(instanceId) : undefined
  if (!c || !inv) throw new ApiError('InvocationDoesNotExist', 'The invocation does not exist (yet)')
  if (plugin !== undefined && plugin !== pluginName(c)) {
    throw new ApiError('InvalidPluginName', `Plugin ${plugin} is not part of document ${c.documentName}`)
  }
  const elapsed =
    inv.startedAt !== undefined && inv.finishedAt !== undefined
      ? `PT${((inv.finishedAt - inv.startedAt) / 1000).toFixed(3)}S`
      : ''
  return {
    CommandId: c.commandId,
    InstanceId: inv.instanceId,
    Comment: c.comment,
    DocumentName: c.documentName,
    DocumentVersion: '$DEFAULT',
    PluginName: pluginName(c),
    ResponseCode: inv.responseCode,
    ExecutionStartDateTime: iso(inv.startedAt),
    ExecutionElapsedTime: elapsed,
    ExecutionEndDateTime: iso(inv.finishedAt),
    Status: apiInvocationStatus(inv.status),
    StatusDetails: defaultDetails(inv),
    StandardOutputContent: inv.stdout.slice(0, STDOUT_LIMIT),
    StandardOutputUrl: '',
    StandardErrorContent: inv.stderr.slice(0, STDERR_LIMIT),
    StandardErrorUrl: '',
    CloudWatchOutputConfig: {
      CloudWatchLogGroupName: c.cloudWatchOutput?.CloudWatchLogGroupName ?? '',
      CloudWatchOutputEnabled: c.cloudWatchOutput?.CloudWatchOutputEnabled ?? false
    }
  }
}

const cancelCommand: Handler<JsonObject> = (body, ctx) => {
  const commandId = commandIdParam(body, true)!
  const instanceIds = optStrings(body, 'InstanceIds')
  lengthRange(V, instanceIds, 'InstanceIds', 0, 50)
  const c = ctx.world.commands.get(commandId)
  if (!c) throw new ApiError('InvalidCommandId', `Command ${commandId} not found`)
  const foreign = (instanceIds ?? []).filter((id) => !c.invocations.has(id))
  if (foreign.length > 0) {
    throw new ApiError('InvalidInstanceId', `Instances [[${foreign.join(', ')}]] are not part of command ${commandId}`)
  }
  ctx.executor.cancel(c, instanceIds && instanceIds.length > 0 ? instanceIds : undefined)
  return {}
}

const listCommands: Handler<JsonObject> = (body, ctx) => {
  const commandId = commandIdParam(body, false)
  const instanceId = instanceIdParam(body, false)
  const maxResults = optNumber(body, 'MaxResults')
  intRange(V, maxResults, 'MaxResults', 1, 50)
  const filters = readCommandFilters(body)
  // A command just sent is not listed yet, even by its id, for the same while as its invocations
  // (SSM is eventually consistent; a client must tolerate both).
  let commands: Command[]
  if (commandId) {
    const c = ctx.world.commands.get(commandId)
    if (!c || !visible(ctx, c)) throw new ApiError('InvalidCommandId', `Command ${commandId} not found`)
    commands = [c]
  } else {
    commands = [...ctx.world.commands.values()].filter((c) => visible(ctx, c)).sort(newestFirst)
  }
  commands = commands.filter((c) => (!instanceId || c.invocations.has(instanceId)) && filters.every((f) => f(c)))
  const p = paginate(
    'ListCommands',
    commands,
    optString(body, 'NextToken'),
    maxResults ?? 50,
    () => new ApiError('InvalidNextToken', 'The specified token is not valid.')
  )
  return { Commands: p.items.map((c) => commandShape(c, ctx.world.region)), ...(p.next ? { NextToken: p.next } : {}) }
}

const INSTANCE_FILTER_KEYS = [
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'ActivationIds',
  'IamRole',
  'ResourceType',
  'AssociationStatus'
] as const

function instanceMatcher(key: string, values: string[]): (i: Instance) => boolean {
  switch (key) {
    case 'InstanceIds':
      return (i) => values.includes(i.id)
    case 'PingStatus':
      return (i) => values.includes(i.pingStatus)
    case 'PlatformTypes':
      return (i) => values.includes(i.platformType)
    case 'ResourceType':
      return () => values.includes('EC2Instance')
    case 'AgentVersion':
      return () => values.includes(AGENT_VERSION)
    default:
      return () => false
  }
}

const AGENT_VERSION = '3.3.1142.0'

const describeInstanceInformation: Handler<JsonObject> = (body, ctx) => {
  const legacy = optObjects(body, 'InstanceInformationFilterList')
  const filters = optObjects(body, 'Filters')
  const maxResults = optNumber(body, 'MaxResults')
  intRange(V, maxResults, 'MaxResults', 5, 50)
  if (legacy && filters) {
    throw new ApiError('InvalidFilter', 'InstanceInformationFilterList and Filters cannot be used together')
  }
  const matchers: Array<(i: Instance) => boolean> = []
  for (const f of legacy ?? []) {
    const key = required(V, optString(f, 'key'), 'key')
    const values = optStrings(f, 'valueSet') ?? []
    oneOf(V, key, 'key', INSTANCE_FILTER_KEYS)
    lengthRange(V, values, 'valueSet', 1, 100)
    matchers.push(instanceMatcher(key, values))
  }
  for (const f of filters ?? []) {
    const key = required(V, optString(f, 'Key'), 'Key')
    const values = optStrings(f, 'Values') ?? []
    lengthRange(V, key, 'Key', 1, 128)
    lengthRange(V, values, 'Values', 1, 100)
    if (!(INSTANCE_FILTER_KEYS as readonly string[]).includes(key) && !/^tag(-key|:.+)$/.test(key)) {
      throw new ApiError('InvalidFilterKey', `The filter key ${key} is not valid`)
    }
    matchers.push(instanceMatcher(key, values))
  }
  for (const f of [...(legacy ?? []), ...(filters ?? [])]) {
    const key = f.key ?? f.Key
    const values = (f.valueSet ?? f.Values) as string[]
    if (key === 'InstanceIds') {
      const malformed = values.filter((v) => !INSTANCE_ID.test(v))
      if (malformed.length > 0) throw new ApiError('InvalidInstanceId', `Invalid instance ids: ${malformed.join(', ')}`)
    }
  }
  const now = ctx.now()
  const instances = [...ctx.world.instances.values()].filter((i) => i.managedBySsm && matchers.every((m) => m(i)))
  const p = paginate(
    'DescribeInstanceInformation',
    instances,
    optString(body, 'NextToken'),
    maxResults ?? 10,
    () => new ApiError('InvalidNextToken', 'The specified token is not valid.')
  )
  return {
    InstanceInformationList: p.items.map((i) => ({
      InstanceId: i.id,
      PingStatus: i.pingStatus,
      // The world keeps no ping times; an online agent has just pinged, a lost one an hour ago.
      LastPingDateTime: epochSeconds(i.pingStatus === 'Online' ? now : now - 3_600_000),
      AgentVersion: AGENT_VERSION,
      IsLatestVersion: false,
      PlatformType: i.platformType,
      PlatformName: i.platformType === 'Linux' ? 'Amazon Linux' : 'Microsoft Windows Server 2022 Datacenter',
      PlatformVersion: i.platformType === 'Linux' ? '2023' : '10.0.20348',
      ResourceType: 'EC2Instance',
      IPAddress: '127.0.0.1',
      ComputerName: `${i.id}.ec2.internal`
    })),
    ...(p.next ? { NextToken: p.next } : {})
  }
}

export const ssmOperations: Record<string, Handler<JsonObject>> = {
  SendCommand: sendCommand,
  ListCommandInvocations: listCommandInvocations,
  GetCommandInvocation: getCommandInvocation,
  CancelCommand: cancelCommand,
  ListCommands: listCommands,
  DescribeInstanceInformation: describeInstanceInformation,
  ...parameterOperations
}
