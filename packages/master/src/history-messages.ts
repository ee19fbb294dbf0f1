/** Messages of `master history` and `master rollback`, on both sides of the MASTER's port. */
export const historyMessages = {
  notAVersion: (given: string, domain: string) =>
    `"${given}" is not a version: versions are named domain_YYYYMMDD_HHMMSS, as "master history ${domain}" lists them`,
  invalidVersion: (version: string, details: string) => `version ${version} cannot be brought back, it is not a valid configuration today:\n${details}`,
  applicationGone: (version: string, application: string) =>
    `version ${version} cannot be brought back: it names application ${application}, whose files were removed since (undeployed); deploy ${application} again, then roll back`,
  rolledBack: (domain: string, version: string, generation: number) =>
    `the configuration of ${domain} is version ${version} again: generation ${generation} (the one it replaced is kept in the history)`,
  neverChanged: (domain: string, generation: number) => `${domain} has no earlier configuration: it was never changed (generation ${generation})`,
  sameAsCurrent: 'same as the current configuration',
  current: (domain: string, generation: number, size: string) => `current: generation ${generation}, ${size} (master rollback ${domain} VERSION brings a version back)`,
};
