/**
 * Whether a PID names a live process. Temporary files and staging directories carry their writer's
 * PID, so a later run can tell a crashed writer's leftovers (safe to remove) from a concurrent
 * writer's work in progress (not to be touched).
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
