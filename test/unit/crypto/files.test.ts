import {execFileSync} from 'node:child_process'
import {promises as fsp} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {ExitCode, KmsGuardError} from '../../../src/cli/errors.js'
import {fsErrorMessage, readPublicFile, readSecretFile, reserveSecretFile, writePublicFile, writeSecretFile} from '../../../src/crypto/files.js'
import {thrown} from './helpers.js'

let root: string
let counter = 0
const fresh = () => join(root, `f${++counter}`)
beforeAll(async () => {
  root = await fsp.mkdtemp(join(tmpdir(), 'kmsguard-files-'))
})
afterAll(async () => {
  await fsp.chmod(root, 0o700)
  await fsp.rm(root, {recursive: true, force: true})
})
afterEach(() => {
  vi.restoreAllMocks()
})

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef')
const opts = {maxBytes: 64, label: '--material file'}

const secretFile = async (content: Buffer = SECRET, mode = 0o600) => {
  const path = fresh()
  await fsp.writeFile(path, content, {mode})
  await fsp.chmod(path, mode)
  return path
}

/** Assert a usage error (exit 2) with `code` whose message names `path` and matches `pattern`. */
const refused = async (fn: () => Promise<unknown>, path: string, pattern: RegExp, code = 'FILE_REFUSED'): Promise<KmsGuardError> => {
  const err = await thrown(fn)
  expect(err).toBeInstanceOf(KmsGuardError)
  const e = err as KmsGuardError
  expect(e.exitCode).toBe(ExitCode.USAGE)
  expect(e.code).toBe(code)
  expect(e.message).toContain(path)
  expect(e.message).toMatch(pattern)
  expect(e.message).not.toContain(SECRET.toString())
  return e
}

/** Run `fn` without root's override of file permissions: as uid 65534 when root, directly otherwise. */
const unprivileged = async <T>(fn: () => Promise<T>): Promise<T> => {
  const root = process.geteuid?.() === 0
  if (root) process.seteuid?.(65534)
  try {
    return await fn()
  } finally {
    if (root) process.seteuid?.(0)
  }
}

const mode = async (path: string) => (await fsp.stat(path)).mode & 0o7777

describe('writeSecretFile', () => {
  it('creates the file new with exactly 0600 even under umask 0, and writes every byte', async () => {
    const previous = process.umask(0)
    try {
      const path = fresh()
      await writeSecretFile(path, SECRET)
      expect(await mode(path)).toBe(0o600)
      expect((await fsp.readFile(path)).equals(SECRET)).toBe(true)
    } finally {
      process.umask(previous)
    }
  })

  it('writes large data completely', async () => {
    const path = fresh()
    const data = Buffer.alloc(3 * 1024 * 1024, 0x5a)
    await writeSecretFile(path, data)
    expect((await fsp.readFile(path)).equals(data)).toBe(true)
  })

  it('refuses to overwrite an existing file and leaves it untouched', async () => {
    const path = await secretFile(Buffer.from('keep me'))
    await refused(() => writeSecretFile(path, SECRET), path, /refusing to overwrite .* already exists \(a regular file\)/, 'OUTPUT_EXISTS')
    expect((await fsp.readFile(path)).toString()).toBe('keep me')
  })

  it('refuses a symlink to a file and a dangling symlink, without creating the target', async () => {
    const target = await secretFile(Buffer.from('keep me'))
    const link = fresh()
    await fsp.symlink(target, link)
    await refused(() => writeSecretFile(link, SECRET), link, /already exists \(a symbolic link\)/, 'OUTPUT_EXISTS')
    expect((await fsp.readFile(target)).toString()).toBe('keep me')

    const missing = fresh()
    const dangling = fresh()
    await fsp.symlink(missing, dangling)
    await refused(() => writeSecretFile(dangling, SECRET), dangling, /already exists \(a dangling symbolic link\)/, 'OUTPUT_EXISTS')
    await expect(fsp.lstat(missing)).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('refuses an existing directory', async () => {
    const dir = fresh()
    await fsp.mkdir(dir)
    await refused(() => writeSecretFile(dir, SECRET), dir, /already exists \(a directory\)/, 'OUTPUT_EXISTS')
  })

  it('refuses a missing parent directory, naming it', async () => {
    const parent = fresh()
    const path = join(parent, 'out.bin')
    const e = await refused(() => writeSecretFile(path, SECRET), path, /directory .* does not exist/)
    expect(e.message).toContain(parent)
  })

  it('refuses stdout, terminals and descriptor paths by name', async () => {
    for (const path of ['-', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/fd/1', '/proc/self/fd/1', '/proc/1/fd/2', '/dev/pts/0', '/dev/../dev/stdout']) {
      await refused(() => writeSecretFile(path, SECRET), path, /never goes to stdout or a terminal/, 'UNSAFE_OUTPUT')
    }
  })

  it('refuses a character device reached under another name', async () => {
    const link = fresh()
    await fsp.symlink('/dev/null', link)
    await refused(() => writeSecretFile(link, SECRET), link, /is a character device/, 'UNSAFE_OUTPUT')
    await refused(() => writeSecretFile('/dev/null', SECRET), '/dev/null', /is a character device/, 'UNSAFE_OUTPUT')
  })

  it('maps a directory it may not write into to a permission error', async () => {
    const dir = fresh()
    await fsp.mkdir(dir, {mode: 0o555})
    await fsp.chmod(root, 0o755)
    try {
      const path = join(dir, 'out.bin')
      await unprivileged(() => refused(() => writeSecretFile(path, SECRET), path, /cannot create .*: permission denied/))
      await expect(fsp.lstat(path)).rejects.toMatchObject({code: 'ENOENT'})
    } finally {
      await fsp.chmod(root, 0o700)
    }
  })

  it('removes the partial file when a write fails', async () => {
    const probe = await fsp.open(await secretFile(), 'r')
    const fileHandleProto = Object.getPrototypeOf(probe) as {write: (...args: unknown[]) => unknown}
    await probe.close()
    vi.spyOn(fileHandleProto, 'write').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device'), {code: 'ENOSPC'}))
    const path = fresh()
    await refused(() => writeSecretFile(path, SECRET), path, /no space left on device; the partial file was removed/)
    await expect(fsp.lstat(path)).rejects.toMatchObject({code: 'ENOENT'})
  })
})

describe('writePublicFile', () => {
  it('creates the file with exactly 0644 under umask 0 and under umask 077', async () => {
    for (const mask of [0, 0o077]) {
      const previous = process.umask(mask)
      try {
        const path = fresh()
        await writePublicFile(path, Buffer.from('-----BEGIN PUBLIC KEY-----\n'))
        expect(await mode(path)).toBe(0o644)
      } finally {
        process.umask(previous)
      }
    }
  })

  it('refuses existing files and symlinks like the secret writer', async () => {
    const path = await secretFile()
    await refused(() => writePublicFile(path, SECRET), path, /refusing to overwrite/, 'OUTPUT_EXISTS')
    const dangling = fresh()
    await fsp.symlink(fresh(), dangling)
    await refused(() => writePublicFile(dangling, SECRET), dangling, /dangling symbolic link/, 'OUTPUT_EXISTS')
  })
})

describe('readSecretFile', () => {
  it('reads a private regular file', async () => {
    const path = await secretFile()
    expect((await readSecretFile(path, opts)).equals(SECRET)).toBe(true)
  })

  it('accepts a file of exactly maxBytes and refuses maxBytes + 1', async () => {
    const exact = await secretFile(Buffer.alloc(64, 1))
    expect((await readSecretFile(exact, opts)).length).toBe(64)
    const big = await secretFile(Buffer.alloc(65, 1))
    await refused(() => readSecretFile(big, opts), big, /is 65 bytes; at most 64 bytes/)
  })

  it('refuses an empty file', async () => {
    const path = await secretFile(Buffer.alloc(0))
    await refused(() => readSecretFile(path, opts), path, /is empty/)
  })

  it('refuses a symlink to a good file and a dangling symlink', async () => {
    const link = fresh()
    await fsp.symlink(await secretFile(), link)
    await refused(() => readSecretFile(link, opts), link, /is a symbolic link; refusing to follow it/)
    const dangling = fresh()
    await fsp.symlink(fresh(), dangling)
    await refused(() => readSecretFile(dangling, opts), dangling, /is a symbolic link/)
  })

  it('refuses a directory, a FIFO, a socket and a character device', async () => {
    const dir = fresh()
    await fsp.mkdir(dir, {mode: 0o700})
    await refused(() => readSecretFile(dir, opts), dir, /is a directory, not a file/)

    const fifo = fresh()
    execFileSync('mkfifo', ['-m', '600', fifo])
    await refused(() => readSecretFile(fifo, opts), fifo, /is a FIFO \(named pipe\), not a regular file/)

    const sock = fresh()
    const server: Server = createServer()
    await new Promise<void>((done) => server.listen(sock, done))
    try {
      await refused(() => readSecretFile(sock, opts), sock, /is a socket, not a regular file/)
    } finally {
      await new Promise((done) => server.close(done))
    }

    await refused(() => readSecretFile('/dev/null', opts), '/dev/null', /is a character device, not a regular file/)
  })

  it('refuses a missing file', async () => {
    const path = fresh()
    await refused(() => readSecretFile(path, opts), path, /--material file: .* does not exist/)
  })

  it('refuses group/other access unless forcePerms, naming --force-perms', async () => {
    for (const m of [0o644, 0o640, 0o604, 0o620, 0o601]) {
      const path = await secretFile(SECRET, m)
      const e = await refused(() => readSecretFile(path, opts), path, /accessible by group or others .*--force-perms/, 'INSECURE_PERMISSIONS')
      expect(e.message).toContain(`mode 0${m.toString(8)}`)
      expect(e.hint).toContain(`chmod 600 ${path}`)
      expect((await readSecretFile(path, {...opts, forcePerms: true})).equals(SECRET)).toBe(true)
    }
  })

  it('still refuses non-permission problems with forcePerms', async () => {
    const path = await secretFile(Buffer.alloc(0), 0o644)
    await refused(() => readSecretFile(path, {...opts, forcePerms: true}), path, /is empty/)
  })

  it('reports an unreadable file as permission denied (effective even for root)', async () => {
    await fsp.chmod(root, 0o755)
    try {
      const path = await secretFile(SECRET, 0o600)
      await fsp.chmod(path, 0o000)
      await unprivileged(() => refused(() => readSecretFile(path, opts), path, /cannot read .*: permission denied/))
    } finally {
      await fsp.chmod(root, 0o700)
    }
  })

  it('reports a file in an untraversable directory as permission denied', async () => {
    const path = await secretFile()
    await fsp.chmod(root, 0o000)
    try {
      await unprivileged(() => refused(() => readSecretFile(path, opts), path, /cannot read .*: permission denied/))
    } finally {
      await fsp.chmod(root, 0o700)
    }
  })

  it('catches a swap to a symlink between the check and the open', async () => {
    const path = await secretFile()
    const elsewhere = await secretFile()
    const realLstat = fsp.lstat.bind(fsp)
    vi.spyOn(fsp, 'lstat').mockImplementationOnce(async (p) => {
      const st = await realLstat(p)
      await fsp.rm(path)
      await fsp.symlink(elsewhere, path)
      return st
    })
    await refused(() => readSecretFile(path, opts), path, /is a symbolic link; refusing to follow it/)
  })

  it('catches a swap to another file between the check and the open', async () => {
    const path = await secretFile()
    const realLstat = fsp.lstat.bind(fsp)
    vi.spyOn(fsp, 'lstat').mockImplementationOnce(async (p) => {
      const st = await realLstat(p)
      await fsp.rename(await secretFile(Buffer.from('other'), 0o644), path)
      return st
    })
    await refused(() => readSecretFile(path, opts), path, /was replaced while it was being opened/)
  })
})

describe('readPublicFile', () => {
  it('reads a world-readable file but refuses symlinks, empty, too large and non-regular files', async () => {
    const path = await secretFile(SECRET, 0o644)
    expect((await readPublicFile(path, opts)).equals(SECRET)).toBe(true)
    const link = fresh()
    await fsp.symlink(path, link)
    await refused(() => readPublicFile(link, opts), link, /symbolic link/)
    const empty = await secretFile(Buffer.alloc(0), 0o644)
    await refused(() => readPublicFile(empty, opts), empty, /is empty/)
    const big = await secretFile(Buffer.alloc(65, 1), 0o644)
    await refused(() => readPublicFile(big, opts), big, /at most 64 bytes/)
    await refused(() => readPublicFile(root, opts), root, /is a directory/)
  })
})

describe('fsErrorMessage', () => {
  const cases: Array<[string, 'read' | 'create', RegExp]> = [
    ['EACCES', 'read', /^cannot read \/x\/y: permission denied$/],
    ['EPERM', 'create', /^cannot create \/x\/y: permission denied$/],
    ['ENOENT', 'read', /^\/x\/y does not exist$/],
    ['ENOENT', 'create', /^cannot create \/x\/y: directory \/x does not exist$/],
    ['ENOTDIR', 'read', /not a directory/],
    ['EISDIR', 'create', /it is a directory/],
    ['ELOOP', 'read', /symbolic link; refusing to follow it/],
    ['EEXIST', 'create', /refusing to overwrite \/x\/y/],
    ['ENOSPC', 'create', /no space left on device/],
    ['EROFS', 'create', /read-only file system/],
    ['EWEIRD', 'read', /^cannot read \/x\/y \(EWEIRD\)$/],
  ]
  for (const [code, action, pattern] of cases) {
    it(`${code} while trying to ${action}`, () => {
      expect(fsErrorMessage(code, '/x/y', action)).toMatch(pattern)
    })
  }
  it('copes with an error that has no code', () => {
    expect(fsErrorMessage(undefined, '/x/y', 'read')).toBe('cannot read /x/y (unknown error)')
  })
})

describe('reserveSecretFile', () => {
  it('creates the file new, empty and 0600 at once; write() fills it, abandon() removes it', async () => {
    const kept = fresh()
    const file = await reserveSecretFile(kept)
    expect((await fsp.stat(kept)).size).toBe(0)
    expect(await mode(kept)).toBe(0o600)
    await file.write(SECRET)
    expect(await fsp.readFile(kept)).toEqual(SECRET)

    const dropped = fresh()
    const other = await reserveSecretFile(dropped)
    await other.abandon()
    await expect(fsp.lstat(dropped)).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('refuses an existing path and streams, like writeSecretFile', async () => {
    const existing = await secretFile()
    await refused(() => reserveSecretFile(existing), existing, /refusing to overwrite/, 'OUTPUT_EXISTS')
    await refused(() => reserveSecretFile('/dev/stdout'), '/dev/stdout', /never goes to stdout/, 'UNSAFE_OUTPUT')
    expect(await fsp.readFile(existing)).toEqual(SECRET)
  })
})
