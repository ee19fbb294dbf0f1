/**
 * Exit codes are part of the contract (docs/contract.md#exit-codes): scripts and cron jobs branch on them,
 * so every binary uses these and nothing else.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  integrity: 4,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: its message is printed as is, and it decides the exit code. */
export class FlotillaError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failed,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad options, arguments or configuration: exit 2. */
export class UsageError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/** The MASTER or another required peer cannot be reached: exit 3. */
export class UnreachableError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unreachable, options);
  }
}

/** A checksum, archive or cache failed a safety check: exit 4. */
export class IntegrityError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.integrity, options);
  }
}
