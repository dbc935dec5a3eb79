/**
 * Whether a process with this pid exists. EPERM means it exists but belongs to someone else: alive, for the lock and
 * stale-state checks that ask.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
