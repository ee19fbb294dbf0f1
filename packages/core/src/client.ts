/**
 * What a command needs to read a domain and talk to its running servers, without the rest of the
 * package (the logger, the HTTP server, backups): `master status` in a loop loads only this.
 */
export * from './errors.js';
export * from './layout.js';
export * from './protocol/sync.js';
export * from './protocol/server-operations.js';
export * from './protocol/config-history.js';
export { openDomain, assertName, type Domain } from './domain.js';
export { readDomainKey } from './domain-key.js';
export { masterEndpoint } from './config/endpoints.js';
export { DomainConfigSchema, type DomainConfig } from './config/schema.js';
export { PeerClient } from './protocol/http-client.js';
export { PeerUnreachableError, PeerNotTrustedError } from './protocol/peer-errors.js';
export { parseMessage, ProtocolError } from './protocol/parse-message.js';
export { masterCredentialsFromHome, CLI_SENDER } from './tls/home-credentials.js';
export { renderTable, statusWithDuration } from './status-format.js';
export { stopServer } from './process/stop-server.js';
export { STOP_TIMEOUT_MS } from './process/wait-for-exit.js';
export { messages } from './messages.js';
export { commandContext, type CommandContext, type GlobalOptions } from './cli/run.js';
export type { CommandModule } from 'yargs';
export * from './protocol/logs.js';
export { readJsonLines } from './protocol/json-lines.js';
export { errorFrom, refusalOf } from './protocol/http-client.js';
export * from './remote/master-access.js';
export * from './cli/master-options.js';
// `master deploy` of a local directory: its checks and its change, without the logger or the backup code.
export { applicationNameProblem, contextProblem } from './config/names.js';
export { DEPLOY_UPLOAD_PATH, deployUploadQuery } from './protocol/upload.js';
export { applicationEntry } from './app-entry.js';
export { linkTargetProblem } from './relative-path.js';
export { storageError } from './storage-error.js';
export { syncFilesBelow } from './atomic-file.js';
export { fileTimeSeconds, wholeMillis } from './file-entry.js';
