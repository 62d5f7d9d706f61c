/** The command's page in the Systems Manager console: every instance's status and output. */
export function consoleUrl(region: string, commandId: string): string {
  return `${consoleOrigin(region)}/systems-manager/run-command/${encodeURIComponent(commandId)}?region=${region}`
}

/** The log group's page in the CloudWatch console, where SSM writes each instance's full output. */
export function logGroupUrl(region: string, logGroup: string): string {
  // The console's fragment router expects the name URL-encoded twice over, with '$' for '%'.
  const name = encodeURIComponent(logGroup).replace(/%/g, '$25')
  return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${name}`
}

function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`
  return `https://${region}.console.aws.amazon.com`
}
