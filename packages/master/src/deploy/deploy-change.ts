import type { MasterConfigChange } from '@flotilla/core';

export type DeployChange = Extract<MasterConfigChange, { op: 'deploy' }>;

/**
 * The change a deploy asks for once its files are staged in apps/: one shape for `master deploy`
 * (staged locally or uploaded) and the web console's upload. Apart from the MASTER's own code, so
 * that the command loads none of it.
 */
export function deployChange(app: { name: string; context: string; targets: string[] }, staging: string): DeployChange {
  return { op: 'deploy', name: app.name, context: app.context, targets: app.targets, staging };
}

/** What a deploy done says, for `master deploy` and the web console alike. */
export function deployedMessage(app: { name: string; context: string; targets: string[] }, generation: number): string {
  return `application ${app.name} deployed at ${app.context} to ${app.targets.join(', ')}: generation ${generation}`;
}
