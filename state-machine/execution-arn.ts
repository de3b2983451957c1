/** `arn:aws:states:<region>:<account>:stateMachine:<name>` → the ARN of its execution `name` (the release id). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
