import {
  CancelCommandCommand,
  type Command,
  type CommandFilter,
  type CommandInvocation,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  type InstanceInformation,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { boundedList, DeployError, messageOf } from '../config/errors.js'

// SSM's own limits: results per listing page, filter values per DescribeInstanceInformation.
const PAGE_SIZE = 50
export const IDS_PER_DESCRIBE = 50

/** A command as SendCommand answered: its id, and when SSM's own clock says it was requested. */
export interface SentCommandId {
  id: string
  requestedAt?: Date
}

/** Sends one command; SSM's refusals become errors that say what to fix. */
export async function sendCommand(ssm: SSMClient, input: SendCommandCommandInput): Promise<SentCommandId> {
  const { Command } = await ssm.send(new SendCommandCommand(input)).catch((e: unknown) => {
    throw sendError(e, input.DocumentName ?? '')
  })
  if (!Command?.CommandId)
    throw new DeployError(`SSM accepted ${input.DocumentName} but returned no command id; run the deploy again`)
  return { id: Command.CommandId, requestedAt: Command.RequestedDateTime }
}

/**
 * The commands the filters select, page after page, until every id in `wanted` has been seen (the
 * rest of the account's commands are of no interest) or the pages run out. One page holds 50
 * commands, which is 2,500 instances of ours: a deploy's status is one call.
 */
export async function listCommands(
  ssm: SSMClient,
  filters: CommandFilter[],
  wanted: ReadonlySet<string>
): Promise<{ commands: Command[]; calls: number }> {
  const found: Command[] = []
  const missing = new Set(wanted)
  let calls = 0
  let NextToken: string | undefined
  do {
    calls++
    const page = await ssm.send(new ListCommandsCommand({ Filters: filters, MaxResults: PAGE_SIZE, NextToken }))
    for (const command of page.Commands ?? []) {
      if (!command.CommandId || !wanted.has(command.CommandId)) continue
      found.push(command)
      missing.delete(command.CommandId)
    }
    NextToken = page.NextToken
  } while (NextToken && missing.size > 0)
  return { commands: found, calls }
}

/**
 * Whether this role may follow commands with ListCommands: asked before anything is sent, since a
 * deploy that finds out after sending would leave its commands running unwatched.
 */
export async function mayListCommands(ssm: SSMClient): Promise<void> {
  try {
    await ssm.send(
      new ListCommandsCommand({ MaxResults: 1, Filters: [{ key: 'InvokedAfter', value: new Date().toISOString() }] })
    )
  } catch (error) {
    if ((error as { name?: string }).name !== 'AccessDeniedException') throw error
    throw new DeployError(
      `Not allowed to follow SSM commands (${messageOf(error)}); give the workflow's role ssm:ListCommands (see the IAM policy in the README); nothing was sent`
    )
  }
}

/** One command by its id; SSM answers InvalidCommandId for an id it does not know (yet). */
export async function getCommand(ssm: SSMClient, commandId: string): Promise<Command | undefined> {
  const { Commands } = await ssm.send(new ListCommandsCommand({ CommandId: commandId }))
  return Commands?.find((c) => c.CommandId === commandId)
}

/** Every invocation of a command, through all pages. */
export async function listInvocations(ssm: SSMClient, commandId: string): Promise<CommandInvocation[]> {
  const invocations: CommandInvocation[] = []
  let NextToken: string | undefined
  do {
    const page = await ssm.send(
      new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: PAGE_SIZE, NextToken })
    )
    invocations.push(...(page.CommandInvocations ?? []))
    NextToken = page.NextToken
  } while (NextToken)
  return invocations
}

/** One instance's result of a command, with its output. */
export async function getInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string
): Promise<GetCommandInvocationCommandOutput> {
  return ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
}

/** Cancels the commands on all their instances; a command that already finished is left as it is. */
export async function cancelCommands(ssm: SSMClient, commandIds: string[]): Promise<void> {
  const outcomes = await Promise.allSettled(
    commandIds.map((CommandId) => ssm.send(new CancelCommandCommand({ CommandId })))
  )
  const failures = outcomes.flatMap((o, i) =>
    o.status === 'rejected' ? [`${commandIds[i]} (${messageOf(o.reason)})`] : []
  )
  if (failures.length > 0) {
    throw new DeployError(
      `Could not cancel ${failures.length} SSM command(s): ${boundedList(failures)}; cancel them in the Systems Manager console (Run Command)`
    )
  }
}

/** What SSM knows of these instances (at most IDS_PER_DESCRIBE), through all pages. */
export async function describeInstances(ssm: SSMClient, instanceIds: string[]): Promise<InstanceInformation[]> {
  const found: InstanceInformation[] = []
  let NextToken: string | undefined
  do {
    const page = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'InstanceIds', Values: instanceIds }],
        MaxResults: PAGE_SIZE,
        NextToken
      })
    )
    found.push(...(page.InstanceInformationList ?? []))
    NextToken = page.NextToken
  } while (NextToken)
  return found
}

function sendError(error: unknown, document: string): unknown {
  const name = (error as { name?: string }).name
  const message = messageOf(error)
  switch (name) {
    case 'InvalidDocument':
    case 'InvalidDocumentVersion':
      return new DeployError(
        `SSM has no usable document ${document} (${message}); check the document input and the region`
      )
    case 'InvalidParameters':
      return new DeployError(
        `${document} does not accept the parameters given (${message}); check commands and document-parameters`
      )
    case 'InvalidInstanceId':
      return new DeployError(
        `SSM cannot send to the idle instances (${message}); check that they are running, managed by SSM and online`
      )
    case 'AccessDeniedException':
      return new DeployError(
        `Not allowed to send ${document} (${message}); give the workflow's role ssm:SendCommand on the document and the instances`
      )
    default:
      return error
  }
}
