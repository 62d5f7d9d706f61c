// SSM Parameter Store operations over the world's parameters, registered beside Run Command in
// the emulated SSM endpoint. What a deploy relies on is modelled exactly: PutParameter without
// Overwrite is an atomic create (ParameterAlreadyExists for an existing name), every overwrite is a
// new version, names follow AWS's rules. Each handler runs to completion on the event loop, so two
// concurrent creates of one name are serialised and exactly one wins, as on AWS.

import type { Parameter, ParameterType, ParameterVersion, World } from '../world.js'
import type { Handler } from './context.js'
import { ApiError } from './errors.js'
import { epochSeconds, optBool, optNumber, optObjects, optString, optStrings, type JsonObject } from './json-input.js'
import { paginate } from './pagination.js'
import { intRange, lengthRange, oneOf, pattern, required } from './validate.js'

const V = 'ValidationException'
const TYPES = ['String', 'StringList', 'SecureString'] as const
const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const
const VALUE_LIMIT = { Standard: 4096, Advanced: 8192 } as const
const MAX_DEPTH = 15
const MAX_VERSIONS = 100
/** AWS counts the ARN prefix (`arn:aws:ssm:<region>:<account>:parameter/`) into this limit. */
const MAX_NAME_WITH_ARN = 1011
const DEFAULT_KEY_ID = 'alias/aws/ssm'
const SEGMENT = /^[a-zA-Z0-9_.-]+$/
const RESERVED = /^\/?(aws|ssm)/i
const KEY_ID = /^([a-zA-Z0-9:/_-]+)$/
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u

// Messages as AWS words them (quoted from users' reports of the real service).
const PATTERN_MESSAGE =
  'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths ' +
  'divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_'
const PATH_MESSAGE =
  'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". ' +
  'It can\'t be prefixed with \\"aws\\" or \\"ssm\\" (case-insensitive). It must use only letters, numbers, or the ' +
  'following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if ' +
  'specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.'
const TAGS_WITH_OVERWRITE =
  "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite " +
  'flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.'

const invalidToken = (): ApiError => new ApiError('InvalidNextToken', 'The specified token is not valid.')
const notFound = (): ApiError => new ApiError('ParameterNotFound', '')

// ---- names ------------------------------------------------------------------------------------

const arnOf = (world: World, name: string): string =>
  `arn:aws:ssm:${world.region}:${world.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`

const segmentsOf = (name: string): string[] => (name.startsWith('/') ? name.slice(1) : name).split('/')

/** The name as the service stores it (surrounding spaces removed), checked against AWS's name rules. */
function checkedName(world: World, raw: string, write: boolean): string {
  lengthRange(V, raw, 'Name', 1, 2048)
  const name = raw.trim()
  // Writes under aws*/ssm* would shadow public parameters; AWS refuses them as an access error.
  if (write && RESERVED.test(name)) {
    throw new ApiError('AccessDeniedException', `No access to reserved parameter name: ${name}.`)
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw new ApiError(V, 'Parameter name must be a fully qualified name.')
  }
  if (!segmentsOf(name).every((s) => SEGMENT.test(s))) throw new ApiError(V, PATTERN_MESSAGE)
  if (write && segmentsOf(name).length > MAX_DEPTH) {
    throw new ApiError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_DEPTH} levels.`)
  }
  if (write && arnOf(world, name).length > MAX_NAME_WITH_ARN) {
    throw new ApiError(
      V,
      `Parameter name with its ARN prefix exceeds the maximum length of ${MAX_NAME_WITH_ARN} characters.`
    )
  }
  return name
}

/** `name`, `name:3` (a version) or `name:label`. Names cannot contain ':' so the first one splits. */
function splitSelector(raw: string): { name: string; selector?: string } {
  const i = raw.indexOf(':')
  return i < 0 ? { name: raw } : { name: raw.slice(0, i), selector: raw.slice(i) }
}

// ---- reading ----------------------------------------------------------------------------------

const latest = (p: Parameter): ParameterVersion => p.versions[p.versions.length - 1]

/**
 * A SecureString read without decryption returns ciphertext, never the value. The sandbox has no
 * KMS: an opaque, deterministic blob stands in for it.
 */
function ciphertext(v: ParameterVersion): string {
  const blob = Buffer.from(
    `sandbox-kms|${v.keyId ?? DEFAULT_KEY_ID}|${v.version}|${Buffer.from(v.value).toString('hex')}`
  )
  return Buffer.concat([Buffer.from([1, 2, 2, 0]), blob.reverse()]).toString('base64')
}

function parameterShape(world: World, p: Parameter, v: ParameterVersion, decrypt: boolean, selector?: string) {
  return {
    Name: p.name,
    Type: v.type,
    Value: v.type === 'SecureString' && !decrypt ? ciphertext(v) : v.value,
    Version: v.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: epochSeconds(v.lastModifiedAt),
    ARN: arnOf(world, p.name),
    DataType: v.dataType
  }
}

function metadataShape(world: World, p: Parameter) {
  const v = latest(p)
  return {
    Name: p.name,
    ARN: arnOf(world, p.name),
    Type: v.type,
    ...(v.type === 'SecureString' ? { KeyId: v.keyId ?? DEFAULT_KEY_ID } : {}),
    LastModifiedDate: epochSeconds(v.lastModifiedAt),
    LastModifiedUser: v.lastModifiedUser,
    ...(v.description !== undefined ? { Description: v.description } : {}),
    ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
    Version: v.version,
    Tier: v.tier,
    Policies: [],
    DataType: v.dataType
  }
}

/** The version a selector names; labels are not modelled, so a label selector finds nothing. */
function selectVersion(p: Parameter, selector: string | undefined): ParameterVersion {
  if (selector === undefined) return latest(p)
  const n = /^:([1-9][0-9]*)$/.exec(selector)
  if (!n) throw notFound()
  const v = p.versions.find((x) => x.version === Number(n[1]))
  if (!v) {
    throw new ApiError(
      'ParameterVersionNotFound',
      `Systems Manager could not find version ${n[1]} of ${p.name}. Verify the version and try again.`
    )
  }
  return v
}

function namesParam(body: JsonObject): string[] {
  const names = required(V, optStrings(body, 'Names'), 'Names')
  lengthRange(V, names, 'Names', 1, 10)
  for (const n of names) lengthRange(V, n, 'Names', 1, 2048)
  return [...new Set(names)]
}

// ---- operations -------------------------------------------------------------------------------

function readTags(body: JsonObject): Array<[string, string]> {
  const raw = optObjects(body, 'Tags') ?? []
  lengthRange(V, raw, 'Tags', 0, 1000)
  const tags = raw.map((t): [string, string] => {
    const key = required(V, optString(t, 'Key'), 'Key')
    const value = required(V, optString(t, 'Value'), 'Value')
    lengthRange(V, key, 'Key', 1, 128)
    pattern(V, key, 'Key', TAG_TEXT)
    lengthRange(V, value, 'Value', 0, 256)
    pattern(V, value, 'Value', TAG_TEXT)
    return [key, value]
  })
  if (new Set(tags.map(([k]) => k)).size !== tags.length) throw new ApiError(V, 'Duplicate tag keys are not allowed.')
  return tags
}

/** The tier a write lands in: an explicit tier, else where the parameter is, else by size. */
function tierFor(
  requested: string | undefined,
  previous: ParameterVersion | undefined,
  size: number
): 'Standard' | 'Advanced' {
  if (requested === 'Standard' || requested === 'Advanced') return requested
  if (previous?.tier === 'Advanced') return 'Advanced'
  if (requested === 'Intelligent-Tiering') return size > VALUE_LIMIT.Standard ? 'Advanced' : 'Standard'
  return 'Standard'
}

const putParameter: Handler<JsonObject> = (body, ctx) => {
  const { world } = ctx
  const rawName = required(V, optString(body, 'Name'), 'Name')
  const value = optString(body, 'Value')
  if (value === undefined) required(V, undefined, 'Value')
  lengthRange(V, value, 'Value', 1, Number.MAX_SAFE_INTEGER)
  const type = optString(body, 'Type')
  oneOf(V, type, 'Type', TYPES)
  const overwrite = optBool(body, 'Overwrite') ?? false
  const description = optString(body, 'Description')
  lengthRange(V, description, 'Description', 0, 1024)
  const keyId = optString(body, 'KeyId')
  lengthRange(V, keyId, 'KeyId', 1, 256)
  pattern(V, keyId, 'KeyId', KEY_ID)
  const allowedPattern = optString(body, 'AllowedPattern')
  lengthRange(V, allowedPattern, 'AllowedPattern', 0, 1024)
  const tier = optString(body, 'Tier')
  oneOf(V, tier, 'Tier', TIERS)
  const policies = optString(body, 'Policies')
  const dataType = optString(body, 'DataType') ?? 'text'
  lengthRange(V, dataType, 'DataType', 0, 128)
  const tags = readTags(body)

  if (tags.length > 0 && overwrite) throw new ApiError(V, TAGS_WITH_OVERWRITE)
  const name = checkedName(world, rawName, true)
  if (policies !== undefined) {
    throw new ApiError(
      V,
      'The sandbox does not model parameter policies (Expiration, ExpirationNotification, NoChangeNotification).'
    )
  }
  if (dataType !== 'text') {
    throw new ApiError(V, `The following data type is not supported: ${dataType} (the sandbox models only "text").`)
  }
  if (/\{\{.*\}\}/s.test(value!)) {
    throw new ApiError(V, 'Parameter value can\'t nest another parameter. Do not use "{{}}" in the value.')
  }

  const existing = world.parameters.get(name)
  if (existing && !overwrite) {
    throw new ApiError(
      'ParameterAlreadyExists',
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'
    )
  }
  const previous = existing ? latest(existing) : undefined
  if (!previous && type === undefined)
    throw new ApiError(V, 'A parameter type is required when you create a parameter.')

  const size = Buffer.byteLength(value!, 'utf8')
  if (previous?.tier === 'Advanced' && tier === 'Standard') {
    throw new ApiError(
      V,
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the " +
        'standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.'
    )
  }
  const landsIn = tierFor(tier, previous, size)
  if (size > VALUE_LIMIT[landsIn]) {
    throw new ApiError(
      V,
      landsIn === 'Standard'
        ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, ' +
            'upgrade the parameter to use the advanced-parameter tier. For more information, see ' +
            'https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html'
        : 'Advanced tier parameters support a maximum parameter value of 8192 characters.'
    )
  }
  const patternText = allowedPattern ?? previous?.allowedPattern
  if (patternText !== undefined && patternText !== '') {
    let re: RegExp
    try {
      re = new RegExp(patternText)
    } catch {
      throw new ApiError(
        'InvalidAllowedPatternException',
        `The allowed pattern ${patternText} is not a valid regular expression.`
      )
    }
    if (!re.test(value!)) {
      throw new ApiError(
        'ParameterPatternMismatchException',
        `Parameter value, cannot be validated against allowedPattern: ${patternText}`
      )
    }
  }

  // Type may change on overwrite (users report SecureString <-> String changes going through).
  const newType = (type ?? previous!.type) as ParameterType
  const version: ParameterVersion = {
    version: (previous?.version ?? 0) + 1,
    value: value!,
    type: newType,
    lastModifiedAt: ctx.now(),
    lastModifiedUser: `arn:aws:iam::${world.accountId}:user/sandbox`,
    ...(description !== undefined
      ? { description }
      : previous?.description !== undefined
        ? { description: previous.description }
        : {}),
    ...(patternText !== undefined ? { allowedPattern: patternText } : {}),
    ...(newType === 'SecureString' ? { keyId: keyId ?? previous?.keyId ?? DEFAULT_KEY_ID } : {}),
    tier: landsIn,
    dataType
  }
  const parameter = existing ?? { name, versions: [], tags: new Map(tags) }
  parameter.versions.push(version)
  if (parameter.versions.length > MAX_VERSIONS) parameter.versions.shift()
  world.parameters.set(name, parameter)
  return { Version: version.version, Tier: version.tier }
}

const getParameter: Handler<JsonObject> = (body, ctx) => {
  const raw = required(V, optString(body, 'Name'), 'Name')
  const decrypt = optBool(body, 'WithDecryption') ?? false
  const { name, selector } = splitSelector(raw.trim())
  checkedName(ctx.world, name, false)
  const p = ctx.world.parameters.get(name)
  if (!p) throw notFound()
  return { Parameter: parameterShape(ctx.world, p, selectVersion(p, selector), decrypt, selector) }
}

const getParameters: Handler<JsonObject> = (body, ctx) => {
  const names = namesParam(body)
  const decrypt = optBool(body, 'WithDecryption') ?? false
  const found: unknown[] = []
  const invalid: string[] = []
  for (const raw of names) {
    const { name, selector } = splitSelector(raw.trim())
    const p = ctx.world.parameters.get(name)
    try {
      if (!p) throw notFound()
      found.push(parameterShape(ctx.world, p, selectVersion(p, selector), decrypt, selector))
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      invalid.push(raw)
    }
  }
  return { Parameters: found, InvalidParameters: invalid }
}

const deleteParameter: Handler<JsonObject> = (body, ctx) => {
  const name = checkedName(ctx.world, required(V, optString(body, 'Name'), 'Name'), true)
  if (!ctx.world.parameters.delete(name)) throw notFound()
  return {}
}

const deleteParameters: Handler<JsonObject> = (body, ctx) => {
  const deleted: string[] = []
  const invalid: string[] = []
  for (const raw of namesParam(body)) {
    const name = raw.trim()
    if (!RESERVED.test(name) && ctx.world.parameters.delete(name)) deleted.push(raw)
    else invalid.push(raw)
  }
  return { DeletedParameters: deleted, InvalidParameters: invalid }
}

// ---- listing ----------------------------------------------------------------------------------

interface StringFilter {
  key: string
  option: string
  values: string[]
}

function readStringFilters(body: JsonObject): StringFilter[] {
  return (optObjects(body, 'ParameterFilters') ?? []).map((f) => {
    const key = required(V, optString(f, 'Key'), 'Key')
    lengthRange(V, key, 'Key', 1, 132)
    pattern(V, key, 'Key', /^(tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType)$/)
    const option = optString(f, 'Option') ?? 'Equals'
    const values = optStrings(f, 'Values') ?? []
    lengthRange(V, values, 'Values', 0, 50)
    return { key, option, values }
  })
}

/** Direct children of `path` ("/a" or "/a/"), or every descendant when recursive. */
function underPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`
  if (!name.startsWith(prefix) || name.length === prefix.length) return false
  return recursive || !name.slice(prefix.length).includes('/')
}

function filterMatcher(f: StringFilter, forPath: boolean): (p: Parameter) => boolean {
  const v = (p: Parameter) => latest(p)
  const options: Record<string, string[]> = {
    Name: ['Equals', 'BeginsWith', 'Contains'],
    Path: ['Recursive', 'OneLevel'],
    Label: ['Equals']
  }
  const allowed = f.key.startsWith('tag:') ? ['Equals', 'BeginsWith', 'Contains'] : (options[f.key] ?? ['Equals'])
  if (!allowed.includes(f.option)) {
    throw new ApiError(
      'InvalidFilterOption',
      `The filter option '${f.option}' is not valid for key '${f.key}'. Valid options are ${allowed.join(', ')}.`
    )
  }
  if (forPath && (['Name', 'Path', 'Tier'].includes(f.key) || f.key.startsWith('tag:'))) {
    throw new ApiError(
      'InvalidFilterKey',
      `The filter key ${f.key} is not supported for GetParametersByPath. Valid filter keys include: [Type, KeyId, Label, DataType].`
    )
  }
  const test = (s: string | undefined): boolean =>
    s !== undefined &&
    (f.values.length === 0 ||
      f.values.some((x) =>
        f.option === 'BeginsWith' ? s.startsWith(x) : f.option === 'Contains' ? s.includes(x) : s === x
      ))
  switch (f.key) {
    case 'Name':
      return (p) => test(p.name) || test(p.name.replace(/^\//, ''))
    case 'Path':
      return (p) => f.values.some((path) => underPath(p.name, path, f.option === 'Recursive'))
    case 'Type':
      return (p) => test(v(p).type)
    case 'KeyId':
      return (p) => test(v(p).keyId)
    case 'Tier':
      return (p) => test(v(p).tier)
    case 'DataType':
      return (p) => test(v(p).dataType)
    case 'Label':
      return () => false // labels are not modelled: no parameter carries one
    default: {
      const tagKey = f.key.slice('tag:'.length)
      return (p) => p.tags.has(tagKey) && test(p.tags.get(tagKey))
    }
  }
}

const byName = (a: Parameter, b: Parameter): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

const getParametersByPath: Handler<JsonObject> = (body, ctx) => {
  const path = required(V, optString(body, 'Path'), 'Path').trim()
  lengthRange(V, path, 'Path', 1, 2048)
  if (!path.startsWith('/') || (path !== '/' && !segmentsOf(path.replace(/\/$/, '')).every((s) => SEGMENT.test(s)))) {
    throw new ApiError(V, PATH_MESSAGE)
  }
  const recursive = optBool(body, 'Recursive') ?? false
  const decrypt = optBool(body, 'WithDecryption') ?? false
  const maxResults = optNumber(body, 'MaxResults')
  intRange(V, maxResults, 'MaxResults', 1, 10)
  const matchers = readStringFilters(body).map((f) => filterMatcher(f, true))
  const all = [...ctx.world.parameters.values()]
    .filter((p) => underPath(p.name, path, recursive) && matchers.every((m) => m(p)))
    .sort(byName)
  const page = paginate('GetParametersByPath', all, optString(body, 'NextToken'), maxResults ?? 10, invalidToken)
  return {
    Parameters: page.items.map((p) => parameterShape(ctx.world, p, latest(p), decrypt)),
    ...(page.next ? { NextToken: page.next } : {})
  }
}

const describeParameters: Handler<JsonObject> = (body, ctx) => {
  const maxResults = optNumber(body, 'MaxResults')
  intRange(V, maxResults, 'MaxResults', 1, 50)
  const legacy = optObjects(body, 'Filters') ?? []
  const stringFilters = readStringFilters(body)
  if (legacy.length > 0 && stringFilters.length > 0) {
    throw new ApiError(V, 'You can use either Filters or ParameterFilters in a single request.')
  }
  const matchers = [
    ...legacy.map((f) => {
      const key = required(V, optString(f, 'Key'), 'Key')
      oneOf(V, key, 'Key', ['Name', 'Type', 'KeyId'])
      const values = required(V, optStrings(f, 'Values'), 'Values')
      lengthRange(V, values, 'Values', 1, 50)
      return filterMatcher({ key, option: 'Equals', values }, false)
    }),
    ...stringFilters.map((f) => filterMatcher(f, false))
  ]
  const all = [...ctx.world.parameters.values()].filter((p) => matchers.every((m) => m(p))).sort(byName)
  const page = paginate('DescribeParameters', all, optString(body, 'NextToken'), maxResults ?? 50, invalidToken)
  return {
    Parameters: page.items.map((p) => metadataShape(ctx.world, p)),
    ...(page.next ? { NextToken: page.next } : {})
  }
}

export const parameterOperations: Record<string, Handler<JsonObject>> = {
  PutParameter: putParameter,
  GetParameter: getParameter,
  GetParameters: getParameters,
  DeleteParameter: deleteParameter,
  DeleteParameters: deleteParameters,
  GetParametersByPath: getParametersByPath,
  DescribeParameters: describeParameters
}
