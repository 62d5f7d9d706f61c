import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient } from '@aws-sdk/client-ssm'
import { clientConfig } from './client-config.js'
import { gated } from './send-gate.js'

export interface AwsClients {
  elb: ElasticLoadBalancingV2Client
  ssm: SSMClient
  cloudwatch: CloudWatchClient
  autoScaling: AutoScalingClient
}

/**
 * Clients for the four services, configured alike (client-config.ts: retries bounded, the SDK's
 * own settings honoured, every attempt passing the lock's send gate). The load balancer's may
 * already exist: the run's first request went through it (main.ts, elb-client.ts).
 */
export function createClients(region: string, elb?: ElasticLoadBalancingV2Client, maxAttempts?: number): AwsClients {
  const config = clientConfig(region, maxAttempts)
  return {
    elb: elb ?? gated(new ElasticLoadBalancingV2Client(config)),
    ssm: gated(new SSMClient(config)),
    cloudwatch: gated(new CloudWatchClient(config)),
    autoScaling: gated(new AutoScalingClient(config))
  }
}
