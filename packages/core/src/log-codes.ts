/**
 * Every log code, in one place, with what it means (docs/log-codes.md is generated from the same
 * list by hand-review: keep them in step). MA- codes come from the MASTER, MS- from managed
 * servers, SYS- from either.
 */
export const LOG_CODES = {
  'SYS-0001': 'An unexpected error inside a request handler; the request failed with HTTP 500.',
  'MA-0001': 'The MASTER is starting.',
  'MA-0002': 'The MASTER accepts connections.',
  'MA-0003': 'The MASTER is stopping.',
  'MA-0004': 'The MASTER stopped.',
  'MA-0010': 'The MASTER told a managed server it is up (master-up event).',
  'MA-0011': 'A managed server did not take the master-up event (it may be down); it will find the MASTER by itself.',
  'MA-0020': 'A configuration change was accepted: a new generation.',
  'MA-0021': 'A configuration change was refused.',
  'MA-0022': 'The generation changed on disk since the last start: a new generation.',
  'MA-0030': 'A managed server attached (MANAGED).',
  'MA-0031': 'A managed server detached: stopped gracefully, or its connection was lost.',
  'MA-0040': 'A request was refused: not signed with the domain key, stale, or replayed (HTTP 401).',
  'MS-0001': 'The managed server is starting.',
  'MS-0002': 'The managed server serves (RUNNING).',
  'MS-0003': 'The managed server is stopping.',
  'MS-0004': 'The managed server stopped.',
  'MS-0010': 'The cache was synchronised to the MASTER\'s generation.',
  'MS-0011': 'The cache already holds the MASTER\'s generation: nothing moved.',
  'MS-0020': 'The cache was verified at start.',
  'MS-0021': 'The current cache generation is corrupt; the previous complete generation is used instead.',
  'MS-0022': 'The cache is corrupt and no complete generation is left: the server does not start.',
  'MS-0030': 'Attached to the MASTER: MANAGED.',
  'MS-0031': 'The connection to the MASTER was lost: INDEPENDENT, serving from the cache, retrying.',
  'MS-0032': 'The MASTER announced itself (master-up); re-synchronising.',
  'MS-0033': 'The MASTER announced a new address; remembered for the next start.',
  'MS-0040': 'A request was refused: not signed with the domain key, stale, or replayed (HTTP 401).',
  'MS-0051': 'The MASTER is unreachable but this home holds the MASTER\'s own files: starting from them (INDEPENDENT).',
  'MS-0052': 'Receiving the configuration failed. Attempting to start as INDEPENDENT.',
  'MS-0053': 'Started from the local cache (INDEPENDENT).',
  'MS-0060': 'A synchronisation attempt failed; the server keeps serving its current generation.',
  'MS-0070': 'An application runs: its process answers on its port.',
  'MS-0071': 'An application exited or did not answer in time; it is restarted with backoff.',
  'MS-0072': 'An application failed for good (no entry point, or exits at once every time); a new version that fails leaves the previous one serving.',
  'MS-0073': 'An application version was replaced or removed; the old one drains its requests and stops.',
  'MS-0074': 'The server changed between RUNNING and STANDBY because an application failed or came back.',
  'MS-0080': "Joined the domain's heartbeat group.",
  'MS-0081': "The heartbeat layer reported a problem (a packet dropped, the group unreachable); failure detection may be affected.",
} as const;

export type LogCode = keyof typeof LOG_CODES;
