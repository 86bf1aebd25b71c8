/**
 * The one rule for when kmsguard may ask a question: stdin and stdout are TTYs, CI is not set, and neither
 * --non-interactive nor --json was given. Otherwise nothing ever waits for input.
 */
export function isInteractive(opts: {nonInteractive?: boolean; json?: boolean}, env: NodeJS.ProcessEnv = process.env, stdin = process.stdin, stdout = process.stdout): boolean {
  if (opts.nonInteractive || opts.json) return false
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return false
  return Boolean(stdin.isTTY && stdout.isTTY)
}

/** Colour only on a TTY, and never with NO_COLOR (https://no-color.org) or TERM=dumb. */
export function useColour(env: NodeJS.ProcessEnv = process.env, stream: {isTTY?: boolean} = process.stdout): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR === '0' || env.TERM === 'dumb') return false
  return Boolean(stream.isTTY)
}
