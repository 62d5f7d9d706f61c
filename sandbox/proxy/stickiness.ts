// Target group stickiness of a forward action, as an ALB applies it (ALB docs, "Forward actions"
// and "Sticky sessions"): with TargetGroupStickinessConfig.Enabled, the first request is routed
// by weight and answered with an AWSALBTG cookie naming the chosen group; a request that brings
// the cookie back goes to that group for as long as the group is still in the forward action,
// whatever its weight, 0 included. That is what keeps sticky clients on a fleet after its weight
// went to 0, and why a deploy must count them as traffic. The load balancer renews the cookie on
// every request: its expiry moves to now + DurationSeconds.
//
// Modelling choices where AWS documents nothing: the cookie (opaque and encrypted on AWS) carries
// its own expiry and the load balancer ignores an expired one even if a client still sends it;
// a cookie naming a group without any registered target is ignored (routing by weight again).

import type { ElbAction } from '../world.js'

export const STICKY_COOKIE = 'AWSALBTG'

export interface WeightedGroup {
  arn: string
  weight: number
}

export interface GroupChoice {
  /** The group the request goes to; undefined when no group can take it (all weights 0, no cookie). */
  arn?: string
  /** True when the stickiness cookie decided, not the weights. */
  bySticky: boolean
  /** The Set-Cookie header value to send back (sticky forward actions only). */
  setCookie?: string
}

interface CookieContent {
  tg: string
  exp: number
}

export function encodeStickyCookie(tgArn: string, expiresAt: number): string {
  return Buffer.from(JSON.stringify({ tg: tgArn, exp: expiresAt } satisfies CookieContent)).toString('base64url')
}

export function decodeStickyCookie(value: string): CookieContent | undefined {
  try {
    const c = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<CookieContent>
    return typeof c.tg === 'string' && c.tg.startsWith('arn:') && typeof c.exp === 'number'
      ? { tg: c.tg, exp: c.exp }
      : undefined
  } catch {
    return undefined
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  return out
}

/** Weighted random choice among groups with weight > 0. */
export function pickWeighted(groups: WeightedGroup[], random = Math.random): string | undefined {
  const total = groups.reduce((s, g) => s + Math.max(0, g.weight), 0)
  if (total <= 0) return undefined
  let x = random() * total
  for (const g of groups) {
    if (g.weight <= 0) continue
    x -= g.weight
    if (x < 0) return g.arn
  }
  return groups.filter((g) => g.weight > 0).at(-1)?.arn
}

export interface ChooseOptions {
  groups: WeightedGroup[]
  stickiness: NonNullable<ElbAction['ForwardConfig']>['TargetGroupStickinessConfig']
  cookieHeader: string | undefined
  now: number
  /** Whether a group has any target the load balancer could send to. */
  hasTargets: (tgArn: string) => boolean
  random?: () => number
}

/** Which group a request to a forward action goes to, and the cookie the answer carries. */
export function chooseTargetGroup(o: ChooseOptions): GroupChoice {
  const sticky = o.stickiness?.Enabled === true
  let arn: string | undefined
  let bySticky = false
  if (sticky) {
    const raw = parseCookies(o.cookieHeader)[STICKY_COOKIE]
    const cookie = raw ? decodeStickyCookie(raw) : undefined
    if (cookie && cookie.exp > o.now && o.groups.some((g) => g.arn === cookie.tg) && o.hasTargets(cookie.tg)) {
      arn = cookie.tg
      bySticky = true
    }
  }
  arn ??= pickWeighted(o.groups, o.random)
  if (!sticky || !arn) return { arn, bySticky }
  const expiresAt = o.now + (o.stickiness?.DurationSeconds ?? 1) * 1000
  return {
    arn,
    bySticky,
    setCookie: `${STICKY_COOKIE}=${encodeStickyCookie(arn, expiresAt)}; Expires=${new Date(expiresAt).toUTCString()}; Path=/`
  }
}
