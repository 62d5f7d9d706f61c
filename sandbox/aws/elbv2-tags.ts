// ELBv2 tags: DescribeTags / AddTags / RemoveTags on every resource kind, and the tag checks
// CreateRule shares with AddTags.

import { defaultRuleArn, elbResourceKind, listenerOfRule } from './arns.js'
import type { Handler, ServiceContext } from './context.js'
import { asList, asObj, asStr } from './elbv2-actions.js'
import { loadBalancerExists } from './elbv2-resources.js'
import { ApiError } from './errors.js'
import type { QueryParams, QueryValue } from './query-protocol.js'
import { lengthRange, required } from './validate.js'

const V = 'ValidationError'
export const MAX_TAGS_PER_RESOURCE = 50

const strings = (value: QueryValue | undefined): string[] =>
  asList(value).filter((v): v is string => typeof v === 'string')

export function tagsOf(ctx: ServiceContext, arn: string): Map<string, string> {
  const { world } = ctx
  const kind = elbResourceKind(arn)
  const stored =
    kind === 'listener'
      ? world.listeners.get(arn)?.tags
      : kind === 'listener-rule'
        ? world.rules.get(arn)?.tags
        : kind === 'targetgroup'
          ? world.targetGroups.get(arn)?.tags
          : undefined
  if (stored) return stored
  const exists =
    (kind === 'loadbalancer' && loadBalancerExists(world, arn)) ||
    (kind === 'listener-rule' &&
      world.listeners.get(listenerOfRule(arn)) !== undefined &&
      defaultRuleArn(listenerOfRule(arn)) === arn)
  if (!exists) {
    const code =
      kind === 'listener'
        ? 'ListenerNotFound'
        : kind === 'listener-rule'
          ? 'RuleNotFound'
          : kind === 'targetgroup'
            ? 'TargetGroupNotFound'
            : kind === 'loadbalancer'
              ? 'LoadBalancerNotFound'
              : V
    throw new ApiError(
      code,
      kind === 'unknown' ? `'${arn}' is not a valid resource ARN` : `Resource '${arn}' not found`
    )
  }
  let extra = ctx.extraTags.get(arn)
  if (!extra) ctx.extraTags.set(arn, (extra = new Map()))
  return extra
}

/** A TagList parameter, checked: keys 1-128, values 0-256 characters, no key twice. */
export function readTags(raw: QueryValue | undefined): Array<readonly [string, string]> {
  const tags = asList(raw).map((t) => {
    const o = asObj(t) ?? {}
    const key = required(V, asStr(o.Key), 'Key')
    const value = asStr(o.Value) ?? ''
    lengthRange(V, key, 'Key', 1, 128)
    lengthRange(V, value, 'Value', 0, 256)
    return [key, value] as const
  })
  const keys = new Set<string>()
  for (const [key] of tags) {
    if (keys.has(key)) throw new ApiError('DuplicateTagKeys', `Tag key '${key}' is duplicated`)
    keys.add(key)
  }
  if (keys.size > MAX_TAGS_PER_RESOURCE) {
    throw new ApiError('TooManyTags', `A resource cannot have more than ${MAX_TAGS_PER_RESOURCE} tags`)
  }
  return tags
}

const describeTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  lengthRange(V, arns, 'ResourceArns', 1, 20)
  return {
    TagDescriptions: arns.map((arn) => ({
      ResourceArn: arn,
      Tags: [...tagsOf(ctx, arn)].map(([Key, Value]) => ({ Key, Value }))
    }))
  }
}

const addTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  const tags = readTags(params.Tags)
  required(V, tags.length > 0 ? tags : undefined, 'Tags')
  const keys = new Set(tags.map(([k]) => k))
  const targets = arns.map((arn) => tagsOf(ctx, arn))
  // All-or-nothing, like AWS: check every resource before changing any.
  targets.forEach((existing, i) => {
    const total = new Set([...existing.keys(), ...keys]).size
    if (total > MAX_TAGS_PER_RESOURCE) {
      throw new ApiError('TooManyTags', `Resource '${arns[i]}' cannot have more than ${MAX_TAGS_PER_RESOURCE} tags`)
    }
  })
  for (const existing of targets) for (const [k, v] of tags) existing.set(k, v)
  return {}
}

const removeTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  const keys = strings(params.TagKeys)
  required(V, keys.length > 0 ? keys : undefined, 'TagKeys')
  const targets = arns.map((arn) => tagsOf(ctx, arn))
  for (const existing of targets) for (const k of keys) existing.delete(k)
  return {}
}

export const tagOperations: Record<string, Handler<QueryParams>> = {
  DescribeTags: describeTags,
  AddTags: addTags,
  RemoveTags: removeTags
}
