import { UsageError, domainsDir, listDomains } from '@flotilla/core';
import { policyMessages } from './messages.js';

/** The domain named, or, when none is, the only domain of the home (as the reference product's single-domain installs expect). */
export async function whichDomain(home: string, named: string | undefined): Promise<string> {
  if (named !== undefined) return named;
  const domains = await listDomains(home);
  if (domains.length === 1) return domains[0]!;
  throw new UsageError(domains.length === 0 ? policyMessages.noDomain(domainsDir(home)) : policyMessages.whichDomain(domainsDir(home), domains));
}
