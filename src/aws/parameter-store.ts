import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm'

/** A parameter as read: its value and the version Parameter Store gave the write that set it. */
export interface StoredParameter {
  value: string
  version: number
}

/** The parameter, or undefined when it does not exist (ParameterNotFound). */
export async function readParameter(ssm: SSMClient, name: string): Promise<StoredParameter | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }))
    return { value: Parameter?.Value ?? '', version: Parameter?.Version ?? 0 }
  } catch (error) {
    if ((error as Error)?.name === 'ParameterNotFound') return undefined
    throw error
  }
}

/**
 * Creates the parameter only if it does not exist (Overwrite: false): Parameter Store's one atomic
 * operation, so of runs creating it at the same moment exactly one succeeds. Returns false when it
 * already exists (ParameterAlreadyExists).
 */
export async function createParameter(ssm: SSMClient, name: string, value: string): Promise<boolean> {
  try {
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: false }))
    return true
  } catch (error) {
    if ((error as Error)?.name === 'ParameterAlreadyExists') return false
    throw error
  }
}

/** Writes the parameter whether or not it exists; returns the new version. */
export async function overwriteParameter(ssm: SSMClient, name: string, value: string): Promise<number> {
  const { Version } = await ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true })
  )
  return Version ?? 0
}

/** Deletes the parameter; false when it did not exist. */
export async function deleteParameter(ssm: SSMClient, name: string): Promise<boolean> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: name }))
    return true
  } catch (error) {
    if ((error as Error)?.name === 'ParameterNotFound') return false
    throw error
  }
}
