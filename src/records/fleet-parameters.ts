// What Parameter Store records for each fleet, under the `parameter-prefix` input:
//
//   <prefix>/fleet/<target group name>/version   the version the fleet's instances run; an instance
//                                                its Auto Scaling group launches later reads it in
//                                                its user data and installs that version
//   <prefix>/fleet/<target group name>/retired   set by `retire`: the size to give the group back
//                                                (JSON), removed when the fleet is brought back
//
// Target group names are unique per account and region, and are what people see in the console,
// so the path is readable and stable across deploys (the ARN's id is not needed to be unique).
import {
  DeleteParameterCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { chunks } from '../aws/batches.js'
import type { RetiredSize } from '../plan/auto-scaling.js'

/** GetParameters takes at most 10 names a call. */
export const PARAMETERS_PER_CALL = 10

/** The target group's name from its ARN (`...:targetgroup/<name>/<id>`). */
export function targetGroupNameOf(targetGroupArn: string): string {
  const name = /:targetgroup\/([^/]+)\/[^/]+$/.exec(targetGroupArn)?.[1]
  if (!name) throw new Error(`not a target group ARN: ${targetGroupArn}`)
  return name
}

export function fleetParameterPath(prefix: string, targetGroupArn: string): string {
  return `${prefix.replace(/\/+$/, '')}/fleet/${targetGroupNameOf(targetGroupArn)}`
}

export function versionParameterName(prefix: string, targetGroupArn: string): string {
  return `${fleetParameterPath(prefix, targetGroupArn)}/version`
}

export function retiredParameterName(prefix: string, targetGroupArn: string): string {
  return `${fleetParameterPath(prefix, targetGroupArn)}/retired`
}

/** What `retire` records: the size to restore, when, and which run did it. */
export interface RetiredRecord extends RetiredSize {
  group: string
  retiredAt: string
  by: string
}

export function encodeRetired(record: RetiredRecord): string {
  return JSON.stringify({
    group: record.group,
    minSize: record.minSize,
    desiredCapacity: record.desiredCapacity,
    retiredAt: record.retiredAt,
    by: record.by
  })
}

/** A record someone edited by hand into something else reads as absent, not as a crash. */
export function decodeRetired(value: string | undefined): RetiredRecord | undefined {
  if (!value) return undefined
  try {
    const o = JSON.parse(value) as Partial<RetiredRecord>
    const count = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0
    if (typeof o.group !== 'string' || !count(o.minSize) || !count(o.desiredCapacity)) return undefined
    return {
      group: o.group,
      minSize: o.minSize,
      desiredCapacity: o.desiredCapacity,
      retiredAt: String(o.retiredAt ?? ''),
      by: String(o.by ?? '')
    }
  } catch {
    return undefined
  }
}

/** What Parameter Store holds for one fleet. */
export interface FleetParameters {
  version?: string
  retired?: RetiredRecord
}

/** Both parameters of each fleet, in calls of at most 10 names. Names that do not exist are simply absent. */
export async function readFleetParameters(
  ssm: SSMClient,
  prefix: string,
  targetGroupArns: readonly string[]
): Promise<Map<string, FleetParameters>> {
  const wanted = targetGroupArns.flatMap((arn) => [
    versionParameterName(prefix, arn),
    retiredParameterName(prefix, arn)
  ])
  const values = new Map<string, string>()
  const results = await Promise.all(
    chunks(wanted, PARAMETERS_PER_CALL).map((Names) => ssm.send(new GetParametersCommand({ Names })))
  )
  for (const r of results)
    for (const p of r.Parameters ?? []) if (p.Name && p.Value !== undefined) values.set(p.Name, p.Value)
  return new Map(
    targetGroupArns.map((arn) => [
      arn,
      {
        version: values.get(versionParameterName(prefix, arn)),
        retired: decodeRetired(values.get(retiredParameterName(prefix, arn)))
      }
    ])
  )
}

/** Records the version the fleet now runs, for the instances its group launches from now on. */
export async function writeVersionParameter(
  ssm: SSMClient,
  prefix: string,
  targetGroupArn: string,
  version: string
): Promise<string> {
  const name = versionParameterName(prefix, targetGroupArn)
  await ssm.send(
    new PutParameterCommand({
      Name: name,
      Value: version,
      Type: 'String',
      Overwrite: true,
      Description: `Version the instances of target group ${targetGroupNameOf(targetGroupArn)} run; new instances install it at boot`
    })
  )
  return name
}

export async function writeRetired(
  ssm: SSMClient,
  prefix: string,
  targetGroupArn: string,
  record: RetiredRecord
): Promise<void> {
  await ssm.send(
    new PutParameterCommand({
      Name: retiredParameterName(prefix, targetGroupArn),
      Value: encodeRetired(record),
      Type: 'String',
      Overwrite: true
    })
  )
}

/** Forgets that a fleet was retired (it is back); absent already is fine. */
export async function clearRetired(ssm: SSMClient, prefix: string, targetGroupArn: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: retiredParameterName(prefix, targetGroupArn) }))
  } catch (e) {
    if (!(e instanceof ParameterNotFound)) throw e
  }
}
