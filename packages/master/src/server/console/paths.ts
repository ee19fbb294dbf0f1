/** The console's prefix on the MASTER's port, beside the signed API under /v1. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_LOGIN_PATH = `${CONSOLE_PATH}/login`;
/** What the page asks and changes beside its event stream. */
export const CONSOLE_API_PATH = `${CONSOLE_PATH}/api`;
