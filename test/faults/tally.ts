/**
 * The fault suite's running figures, per test file (vitest runs each file in its own process): faults injected
 * per kind, guards that stayed closed after a failed read, mutations sent after such a refusal (must stay 0),
 * and mutations attempted under a fault (each must reach the server at most once). `printTally` writes one line
 * per file that docs/reliability.md sums up.
 */
export const tally = {
  injected: {} as Record<string, number>,
  guardsClosed: 0,
  mutationsAfterRefusal: 0,
  mutationsUnderFault: 0,
}

export function countInjected(kind: string, n: number): void {
  tally.injected[kind] = (tally.injected[kind] ?? 0) + n
}

/**
 * A guarded command ran while a read it depends on failed: it stayed closed when it refused and the server
 * received no mutation (`mutationsAfter`, which is counted whatever happened).
 */
export function countGuard(refused: boolean, mutationsAfter: number): void {
  if (refused && mutationsAfter === 0) tally.guardsClosed++
  tally.mutationsAfterRefusal += mutationsAfter
}

export function countMutationUnderFault(): void {
  tally.mutationsUnderFault++
}

export function printTally(file: string): void {
  const total = Object.values(tally.injected).reduce((a, b) => a + b, 0)
  process.stdout.write(`[fault tally] ${file}: ${JSON.stringify({...tally, injectedTotal: total})}\n`)
}
