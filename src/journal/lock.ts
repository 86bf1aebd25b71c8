/**
 * A cross-process exclusive lock for the journal: `<file>.lock`, created with O_EXCL and holding the owner's
 * pid, start time and a random token. Waiters retry with small jittered sleeps. A lock whose owner is dead, or
 * that is older than the stale limit, is broken: it is renamed aside first and compared with what was judged
 * stale, so two waiters breaking the same stale lock cannot remove each other's fresh one.
 */
import {randomBytes} from 'node:crypto'
import {link, open, readFile, rename, stat, unlink} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {ExitCode, KmsGuardError} from '../cli/errors.js'

export interface LockOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number
  /** A lock older than this is stale whatever its pid (default 30 s). */
  staleMs?: number
}

interface LockContent {
  pid: number
  time: number
  token: string
}

const isErrno = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException | null)?.code === code

const parseLock = (text: string): LockContent | undefined => {
  try {
    const value = JSON.parse(text) as Partial<LockContent>
    return typeof value.pid === 'number' && typeof value.time === 'number' && typeof value.token === 'string'
      ? {pid: value.pid, time: value.time, token: value.token}
      : undefined
  } catch {
    return undefined
  }
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return isErrno(err, 'EPERM')
  }
}

/** Reads the lock; undefined when it vanished meanwhile. A lock without readable content ages by its mtime. */
const inspect = async (lockPath: string): Promise<{text: string; owner?: LockContent; ageMs: number} | undefined> => {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)])
    const owner = parseLock(text)
    return {text, owner, ageMs: Date.now() - (owner?.time ?? info.mtimeMs)}
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw err
  }
}

const tryCreate = async (lockPath: string, content: string): Promise<boolean> => {
  try {
    const handle = await open(lockPath, 'wx', 0o600)
    try {
      await handle.writeFile(content)
    } finally {
      await handle.close()
    }
    return true
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false
    throw err
  }
}

/** Removes `lockPath` if it still holds `staleText`; puts back a lock that turned out to be someone's fresh one. */
const breakStale = async (lockPath: string, staleText: string): Promise<void> => {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await rename(lockPath, aside)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return
    throw err
  }
  if ((await readFile(aside, 'utf8')) !== staleText) {
    await link(aside, lockPath).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err
    })
  }
  await unlink(aside)
}

const release = async (lockPath: string, content: string): Promise<void> => {
  const current = await readFile(lockPath, 'utf8').catch(() => undefined)
  if (current === content) await unlink(lockPath).catch(() => undefined)
}

/** Runs `fn` while holding `<file>.lock`; the lock is released (if still ours) however `fn` ends. */
export const withFileLock = async <T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> => {
  const lockPath = `${file}.lock`
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleMs = options.staleMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  let content: string
  for (;;) {
    content = JSON.stringify({pid: process.pid, time: Date.now(), token: randomBytes(8).toString('hex')})
    if (await tryCreate(lockPath, content)) break
    const held = await inspect(lockPath)
    if (held !== undefined && (held.ageMs > staleMs || (held.owner !== undefined && !processAlive(held.owner.pid)))) {
      await breakStale(lockPath, held.text)
      continue
    }
    if (Date.now() >= deadline) {
      throw new KmsGuardError('JOURNAL_LOCKED', ExitCode.INTERNAL, `the journal is locked by another kmsguard process${held?.owner ? ` (pid ${held.owner.pid})` : ''}`, {
        hint: `wait for it to finish; if no kmsguard is running, remove ${lockPath}`,
      })
    }
    await sleep(5 + Math.random() * 20)
  }
  try {
    return await fn()
  } finally {
    await release(lockPath, content)
  }
}
