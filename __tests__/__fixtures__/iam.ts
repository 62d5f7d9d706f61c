// How an API call maps to the IAM action that authorises it: `<prefix>:<Operation>` for every
// operation the action calls (the IAM action has the operation's name for all of them; an
// operation whose IAM action differs would be listed here). A service added to the sandbox or an
// SDK client added to the action needs its prefix here; the tests say so when one is missing.

/** Sandbox service name (sandbox/world.ts ApiCall.service) -> IAM service prefix. */
export const IAM_PREFIX_OF_SANDBOX_SERVICE: Record<string, string> = {
  elbv2: 'elasticloadbalancing',
  ssm: 'ssm',
  cloudwatch: 'cloudwatch',
  autoscaling: 'autoscaling',
  logs: 'logs',
  sts: 'sts'
}

/** SDK client package -> IAM service prefix. */
export const IAM_PREFIX_OF_SDK_PACKAGE: Record<string, string> = {
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-sts': 'sts'
}

export function iamActionOfCall(service: string, operation: string): string {
  const prefix = IAM_PREFIX_OF_SANDBOX_SERVICE[service]
  if (!prefix)
    throw new Error(`no IAM prefix for sandbox service "${service}": add it to __tests__/__fixtures__/iam.ts`)
  return `${prefix}:${operation}`
}

/** The action's own calls carry its user agent (src: customUserAgent = `<package name>/<version>`). */
export function isActionUserAgent(userAgent: string | undefined, packageName: string): boolean {
  return userAgent !== undefined && userAgent.includes(`${packageName}/`)
}
