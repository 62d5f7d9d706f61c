// Listener rule conditions: decoding from Query params and the checks ELBv2 applies on
// CreateRule/ModifyRule (ALB docs "Condition types for listener rules" and "Quotas for your
// Application Load Balancers"): at most one host-header, http-request-method, path-pattern and
// source-ip condition per rule; at most 3 match evaluations per condition, 5 per rule; at most 5
// wildcards per rule; per-type lengths and character sets. Conditions are stored in the shape
// DescribeRules returns: host-header and path-pattern carry both `Values` and their config.

import { isIP } from 'node:net'
import type { RuleCondition } from '../world.js'
import { asList, asObj, asStr } from './elbv2-actions.js'
import { ApiError } from './errors.js'
import type { QueryValue } from './query-protocol.js'

const V = 'ValidationError'
export const CONDITION_FIELDS = [
  'http-header',
  'http-request-method',
  'host-header',
  'path-pattern',
  'query-string',
  'source-ip'
] as const
const ONCE_PER_RULE = new Set(['host-header', 'http-request-method', 'path-pattern', 'source-ip'])
const MAX_VALUES_PER_CONDITION = 3
const MAX_VALUES_PER_RULE = 5
const MAX_WILDCARDS_PER_RULE = 5
const CONFIG_OF: Record<RuleCondition['Field'], string> = {
  'http-header': 'HttpHeaderConfig',
  'http-request-method': 'HttpRequestMethodConfig',
  'host-header': 'HostHeaderConfig',
  'path-pattern': 'PathPatternConfig',
  'query-string': 'QueryStringConfig',
  'source-ip': 'SourceIpConfig'
}
const HEADER_NAME = /^[!#$%&'+\-.^_`|~0-9A-Za-z]+$/ // RFC 7230 token, without the wildcard '*'
const HOST = /^[A-Za-z0-9.*?-]+$/
const PATH = /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/
const METHOD = /^[A-Z_-]+$/

const strings = (v: QueryValue | undefined): string[] => asList(v).filter((x): x is string => typeof x === 'string')

function decodeOne(item: QueryValue): RuleCondition {
  const c = asObj(item) ?? {}
  const field = asStr(c.Field)
  if (!field) throw new ApiError(V, 'A condition field must be specified')
  if (!(CONDITION_FIELDS as readonly string[]).includes(field)) {
    throw new ApiError(V, `Condition field '${field}' must be one of '${CONDITION_FIELDS.join(', ')}'`)
  }
  const f = field as RuleCondition['Field']
  const own = CONFIG_OF[f]
  for (const key of Object.values(CONFIG_OF)) {
    if (key !== own && c[key] !== undefined)
      throw new ApiError(V, `'${key}' can only be specified with the '${fieldOf(key)}' field`)
  }
  const config = asObj(c[own])
  if (c.RegexValues !== undefined || (config && config.RegexValues !== undefined)) {
    throw new ApiError(V, 'The sandbox does not model regular-expression conditions (RegexValues)')
  }
  const legacy = c.Values !== undefined ? strings(c.Values) : undefined
  if (legacy !== undefined && f !== 'host-header' && f !== 'path-pattern') {
    throw new ApiError(V, `'Values' can only be specified with the 'host-header' or 'path-pattern' field; use '${own}'`)
  }
  if (legacy !== undefined && config) throw new ApiError(V, `You cannot specify both 'Values' and '${own}'`)
  if (legacy !== undefined && legacy.length > 1) {
    throw new ApiError(V, `Only one value can be specified in 'Values'; use '${own}' for several`)
  }
  switch (f) {
    case 'host-header':
    case 'path-pattern': {
      const values = legacy ?? strings(config?.Values)
      return f === 'host-header'
        ? { Field: f, Values: values, HostHeaderConfig: { Values: values } }
        : { Field: f, Values: values, PathPatternConfig: { Values: values } }
    }
    case 'http-header':
      return {
        Field: f,
        HttpHeaderConfig: { HttpHeaderName: asStr(config?.HttpHeaderName) ?? '', Values: strings(config?.Values) }
      }
    case 'http-request-method':
      return { Field: f, HttpRequestMethodConfig: { Values: strings(config?.Values) } }
    case 'source-ip':
      return { Field: f, SourceIpConfig: { Values: strings(config?.Values) } }
    case 'query-string':
      return {
        Field: f,
        QueryStringConfig: {
          Values: asList(config?.Values).map((pair) => {
            const o = asObj(pair) ?? {}
            const key = asStr(o.Key)
            return { ...(key !== undefined ? { Key: key } : {}), Value: asStr(o.Value) ?? '' }
          })
        }
      }
  }
}

const fieldOf = (configKey: string): string => Object.entries(CONFIG_OF).find(([, k]) => k === configKey)![0]

export function decodeConditions(raw: QueryValue | undefined): RuleCondition[] {
  return asList(raw).map(decodeOne)
}

/** The strings a condition compares (its match evaluations). */
export function conditionValues(c: RuleCondition): string[] {
  switch (c.Field) {
    case 'host-header':
      return c.HostHeaderConfig?.Values ?? c.Values ?? []
    case 'path-pattern':
      return c.PathPatternConfig?.Values ?? c.Values ?? []
    case 'http-header':
      return c.HttpHeaderConfig?.Values ?? []
    case 'http-request-method':
      return c.HttpRequestMethodConfig?.Values ?? []
    case 'source-ip':
      return c.SourceIpConfig?.Values ?? []
    case 'query-string':
      return (c.QueryStringConfig?.Values ?? []).map((p) => `${p.Key ?? ''}=${p.Value}`)
  }
}

const wildcards = (s: string): number => (s.match(/[*?]/g) ?? []).length

function checkValue(c: RuleCondition, value: string): void {
  const bad = (what: string): ApiError =>
    new ApiError(V, `Condition value '${value}' is not valid for '${c.Field}': ${what}`)
  switch (c.Field) {
    case 'host-header': {
      if (value.length > 128) throw bad('at most 128 characters')
      if (!HOST.test(value)) throw bad('allowed characters are A-Z, a-z, 0-9, - . * ?')
      const last = value.lastIndexOf('.')
      if (last < 0) throw bad('a host name must include at least one "." character')
      if (!/^[A-Za-z]+$/.test(value.slice(last + 1)))
        throw bad('only alphabetical characters are allowed after the final "."')
      return
    }
    case 'path-pattern':
      if (value.length > 128) throw bad('at most 128 characters')
      if (!PATH.test(value)) throw bad('allowed characters are A-Z, a-z, 0-9, _ - . $ / ~ " \' @ : + & * ?')
      return
    case 'http-header':
      if (value.length > 128) throw bad('at most 128 characters')
      return
    case 'http-request-method':
      if (value.length > 40) throw bad('at most 40 characters')
      if (!METHOD.test(value)) throw bad('allowed characters are A-Z, hyphen and underscore; no wildcards')
      return
    case 'source-ip': {
      const [ip, bits, ...rest] = value.split('/')
      const family = isIP(ip ?? '')
      const max = family === 6 ? 128 : 32
      if (!family || bits === undefined || rest.length > 0 || !/^\d+$/.test(bits) || Number(bits) > max) {
        throw bad('a source IP must be an IPv4 or IPv6 address in CIDR format, e.g. 192.0.2.0/24')
      }
      return
    }
    case 'query-string':
      if (value.length > 128) throw bad('keys and values are at most 128 characters')
      return
  }
}

/** The checks ELBv2 runs on the conditions of a (non-default) rule. */
export function validateConditions(conditions: RuleCondition[]): void {
  if (conditions.length === 0) throw new ApiError(V, 'A rule must have at least one condition')
  const seen = new Set<string>()
  let total = 0
  let wild = 0
  for (const c of conditions) {
    if (ONCE_PER_RULE.has(c.Field)) {
      if (seen.has(c.Field)) throw new ApiError(V, `A rule can only have one '${c.Field}' condition`)
      seen.add(c.Field)
    }
    if (c.Field === 'http-header') {
      const name = c.HttpHeaderConfig?.HttpHeaderName ?? ''
      if (name === '') throw new ApiError(V, 'An HTTP header name must be specified for an http-header condition')
      if (name.length > 40) throw new ApiError(V, `HTTP header name '${name}' must be at most 40 characters`)
      if (!HEADER_NAME.test(name))
        throw new ApiError(V, `HTTP header name '${name}' is not valid; wildcards are not supported`)
      if (name.toLowerCase() === 'host') {
        throw new ApiError(
          V,
          "You can't use an HTTP header condition to specify the host header; use a host-header condition"
        )
      }
    }
    if (c.Field === 'query-string') {
      for (const p of c.QueryStringConfig?.Values ?? []) {
        if (p.Value === '') throw new ApiError(V, 'A query string condition value must be specified')
        checkValue(c, p.Key ?? '')
        checkValue(c, p.Value)
        wild += wildcards(p.Key ?? '') + wildcards(p.Value)
      }
    }
    const values = conditionValues(c)
    if (values.length === 0) throw new ApiError(V, `The value for a '${c.Field}' condition can't be empty`)
    if (values.length > MAX_VALUES_PER_CONDITION) {
      throw new ApiError(V, `A condition can only have '${MAX_VALUES_PER_CONDITION}' values`)
    }
    if (c.Field !== 'query-string') {
      for (const v of values) {
        if (v === '') throw new ApiError(V, `The value for a '${c.Field}' condition can't be empty`)
        checkValue(c, v)
        if (c.Field !== 'http-request-method' && c.Field !== 'source-ip') wild += wildcards(v)
      }
    }
    total += values.length
  }
  if (total > MAX_VALUES_PER_RULE)
    throw new ApiError(V, `A rule can only have '${MAX_VALUES_PER_RULE}' condition values`)
  if (wild > MAX_WILDCARDS_PER_RULE) throw new ApiError(V, `A rule can only have '${MAX_WILDCARDS_PER_RULE}' wildcards`)
}
