/** The kinds of ARN this action accepts, with the shape AWS gives each. */
export type ArnKind = 'listener' | 'listener-rule' | 'targetgroup'

export interface ParsedArn {
  arn: string
  partition: string
  region: string
  account: string
  kind: ArnKind
  /** The name part AWS puts in the ARN (target group name, or the load balancer name). */
  name: string
}

const PARTITION = '(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)'
const REGION = '([a-z]{2}(-[a-z]+)+-\\d{1,2})'
const ACCOUNT = '(\\d{12})'
const NAME = '([A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?)'
const ID = '[0-9a-f]{16}'

const RESOURCE: Record<ArnKind, string> = {
  // Application Load Balancers only: weighted forward actions exist on `app` listeners.
  listener: `listener/app/${NAME}/${ID}/${ID}`,
  'listener-rule': `listener-rule/app/${NAME}/${ID}/${ID}/${ID}`,
  targetgroup: `targetgroup/${NAME}/${ID}`
}

const PATTERN: Record<ArnKind, RegExp> = Object.fromEntries(
  Object.entries(RESOURCE).map(([kind, resource]) => [
    kind,
    new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:${resource}$`)
  ])
) as Record<ArnKind, RegExp>

export const ARN_EXAMPLE: Record<ArnKind, string> = {
  listener: 'arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/LB-NAME/LB-ID/LISTENER-ID',
  'listener-rule': 'arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/LB-NAME/LB-ID/LISTENER-ID/RULE-ID',
  targetgroup: 'arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID'
}

export function parseArn(arn: string, kind: ArnKind): ParsedArn | undefined {
  const match = PATTERN[kind].exec(arn)
  if (!match) return undefined
  const [, partition, region, , account, name] = match
  return { arn, partition, region, account, kind, name }
}

/** The target group's name from its ARN, for messages a person reads. */
export function targetGroupName(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn
}

/** A short label for a listener or rule ARN: `web/listener f2f7dc8e…`, enough to tell routes apart. */
export function routeLabel(arn: string): string {
  const rule = /:listener-rule\/app\/([^/]+)\/[^/]+\/([^/]+)\/([^/]+)$/.exec(arn)
  if (rule) return `rule ${rule[3].slice(0, 8)} of ${rule[1]} listener ${rule[2].slice(0, 8)}`
  const listener = /:listener\/app\/([^/]+)\/[^/]+\/([^/]+)$/.exec(arn)
  if (listener) return `${listener[1]} listener ${listener[2].slice(0, 8)}`
  return arn
}
