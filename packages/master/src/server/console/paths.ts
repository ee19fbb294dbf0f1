/** The console's prefix on the MASTER's port, beside the signed API under /v1. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_LOGIN_PATH = `${CONSOLE_PATH}/login`;
