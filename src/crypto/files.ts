/**
 * File I/O for key material and public keys. Output files are always created new (O_EXCL, never following a
 * symlink) with an exact mode; secret output never goes to stdout, a terminal or any other character device.
 * Input files are read only when they are plain regular files of sane size (and, for secrets, private to their
 * owner), checked again on the open descriptor so a swap between check and open is caught.
 * Every refusal is a usage error (exit 2) naming the file, never its content.
 */
import {constants, promises as fsp, type Stats} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {usageError} from '../cli/errors.js'
import {zeroize} from './fingerprint.js'

const {O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK} = constants

export interface ReadFileOptions {
  maxBytes: number
  /** What the file is, for messages, e.g. "--material file". */
  label: string
}

export interface ReadSecretFileOptions extends ReadFileOptions {
  /** Read even when group or others have access (the `--force-perms` flag). */
  forcePerms?: boolean
}

const errnoCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined

/** The words for a failed file system call on `path`; `action` is what kmsguard was trying to do. */
export const fsErrorMessage = (code: string | undefined, path: string, action: 'read' | 'create'): string => {
  switch (code) {
    case 'ENOENT': return action === 'read' ? `${path} does not exist` : `cannot create ${path}: directory ${dirname(path)} does not exist`
    case 'EACCES':
    case 'EPERM': return `cannot ${action} ${path}: permission denied`
    case 'ENOTDIR': return `cannot ${action} ${path}: a component of the path is not a directory`
    case 'EISDIR': return `cannot ${action} ${path}: it is a directory`
    case 'ELOOP': return `${path} is a symbolic link; refusing to follow it`
    case 'EEXIST': return `refusing to overwrite ${path}: it already exists`
    case 'ENOSPC': return `cannot ${action} ${path}: no space left on device`
    case 'EDQUOT': return `cannot ${action} ${path}: disk quota exceeded`
    case 'EROFS': return `cannot ${action} ${path}: read-only file system`
    case 'ENAMETOOLONG': return `cannot ${action} ${path}: the name is too long`
    default: return `cannot ${action} ${path} (${code ?? 'unknown error'})`
  }
}

const fileError = (message: string, hint?: string, code = 'FILE_REFUSED') => usageError(message, hint, code)

const describeKind = (st: Stats): string =>
  st.isSymbolicLink() ? 'a symbolic link'
    : st.isDirectory() ? 'a directory'
      : st.isFIFO() ? 'a FIFO (named pipe)'
        : st.isSocket() ? 'a socket'
          : st.isCharacterDevice() ? 'a character device'
            : st.isBlockDevice() ? 'a block device'
              : 'a regular file'

// ---------------------------------------------------------------------------------------------- writing

/** Standard streams and terminals, by name. The path is resolved first, so relative spellings are caught. */
const STREAM_PATH = /^\/(?:dev\/(?:stdin|stdout|stderr|tty\d*|console|fd\/.*|pts\/.*)|proc\/(?:self|thread-self|\d+)\/fd\/.*)$/

const refuseExisting = async (path: string, secret: boolean): Promise<void> => {
  let st: Stats
  try {
    st = await fsp.lstat(path)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return
    throw fileError(fsErrorMessage(errnoCode(err), path, 'create'))
  }
  const target = await fsp.stat(path).catch(() => undefined)
  if (secret && target?.isCharacterDevice()) {
    throw fileError(`refusing to write key material to ${path}: it is a character device (a terminal or stream); key material only goes to a new regular file`, undefined, 'UNSAFE_OUTPUT')
  }
  const what = st.isSymbolicLink() && target === undefined ? 'a dangling symbolic link' : describeKind(st)
  throw fileError(`refusing to overwrite ${path}: it already exists (${what})`, 'Choose a path that does not exist yet.', 'OUTPUT_EXISTS')
}

const writeAll = async (fh: FileHandle, data: Buffer): Promise<void> => {
  for (let offset = 0; offset < data.length;) {
    const {bytesWritten} = await fh.write(data, offset, data.length - offset, offset)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), {code: 'EIO'})
    offset += bytesWritten
  }
}

/** A file created new (O_EXCL, no symlink followed, exact mode) and not yet written. */
export interface NewFile {
  readonly path: string
  /** Writes everything, fsyncs and closes; on failure the file is removed. Call once. */
  write(data: Buffer): Promise<void>
  /** Closes and removes the file (it was created by us, so removing it is always safe). */
  abandon(): Promise<void>
}

const createNewFile = async (path: string, mode: number, secret: boolean): Promise<NewFile> => {
  if (secret && (path === '-' || STREAM_PATH.test(resolve(path)))) {
    throw fileError(`refusing to write key material to ${path}: key material never goes to stdout or a terminal`, 'Give --out a path for a new file.', 'UNSAFE_OUTPUT')
  }
  await refuseExisting(path, secret)
  let fh: FileHandle
  try {
    fh = await fsp.open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode)
  } catch (err) {
    throw fileError(fsErrorMessage(errnoCode(err), path, 'create'), undefined, errnoCode(err) === 'EEXIST' ? 'OUTPUT_EXISTS' : 'FILE_REFUSED')
  }
  let open = true
  const abandon = async () => {
    if (open) await fh.close().catch(() => undefined)
    open = false
    await fsp.unlink(path).catch(() => undefined)
  }
  try {
    await fh.chmod(mode)
  } catch (err) {
    await abandon()
    throw fileError(fsErrorMessage(errnoCode(err), path, 'create'))
  }
  return {
    path,
    abandon,
    async write(data: Buffer) {
      try {
        await writeAll(fh, data)
        await fh.sync()
        open = false
        await fh.close()
      } catch (err) {
        await abandon()
        throw fileError(`${fsErrorMessage(errnoCode(err), path, 'create')}; the partial file was removed`)
      }
    },
  }
}

const writeNewFile = async (path: string, data: Buffer, mode: number, secret: boolean): Promise<void> => {
  await (await createNewFile(path, mode, secret)).write(data)
}

/**
 * Reserves `path` as a new, empty 0600 file before the material exists (e.g. before an export request), so
 * the material never arrives without a place to go; write() it once, or abandon() it.
 */
export const reserveSecretFile = (path: string): Promise<NewFile> => createNewFile(path, 0o600, true)

/** Create `path` new with mode 0600 and write `data` to it; refuses existing paths, stdout and terminals. */
export const writeSecretFile = (path: string, data: Buffer): Promise<void> => writeNewFile(path, data, 0o600, true)

/** Create `path` new with mode 0644 and write `data` (a public key) to it; refuses existing paths. */
export const writePublicFile = (path: string, data: Buffer): Promise<void> => writeNewFile(path, data, 0o644, false)

// ---------------------------------------------------------------------------------------------- reading

const checkReadable = (st: Stats, where: string, path: string, opts: ReadSecretFileOptions, secret: boolean): void => {
  if (st.isSymbolicLink()) throw fileError(`${where} is a symbolic link; refusing to follow it`, 'Give the path of the file itself.')
  if (st.isDirectory()) throw fileError(`${where} is a directory, not a file`)
  if (!st.isFile()) throw fileError(`${where} is ${describeKind(st)}, not a regular file`)
  if (st.size === 0) throw fileError(`${where} is empty`)
  if (st.size > opts.maxBytes) throw fileError(`${where} is ${st.size} bytes; at most ${opts.maxBytes} bytes are expected`)
  if (secret && !opts.forcePerms && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
    throw fileError(
      `${where} is accessible by group or others (mode ${mode}); refusing to read key material from it without --force-perms`,
      `Restrict it with \`chmod 600 ${path}\`, or pass --force-perms to read it anyway.`,
      'INSECURE_PERMISSIONS',
    )
  }
}

/** Read the whole (already checked) file; it must still be exactly `size` bytes. */
const readExactly = async (fh: FileHandle, size: number, where: string): Promise<Buffer> => {
  const buf = Buffer.alloc(size + 1)
  let total = 0
  while (total < buf.length) {
    const {bytesRead} = await fh.read(buf, total, buf.length - total, total)
    if (bytesRead === 0) break
    total += bytesRead
  }
  if (total !== size) {
    zeroize(buf)
    throw fileError(`${where} changed while it was being read; refusing to use it`)
  }
  return buf.subarray(0, size)
}

const readCheckedFile = async (path: string, opts: ReadSecretFileOptions, secret: boolean): Promise<Buffer> => {
  const where = `${opts.label} ${path}`
  let before: Stats
  try {
    before = await fsp.lstat(path)
  } catch (err) {
    throw fileError(`${opts.label}: ${fsErrorMessage(errnoCode(err), path, 'read')}`)
  }
  checkReadable(before, where, path, opts, secret)
  let fh: FileHandle
  try {
    fh = await fsp.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  } catch (err) {
    throw fileError(`${opts.label}: ${fsErrorMessage(errnoCode(err), path, 'read')}`)
  }
  try {
    const opened = await fh.stat()
    if (opened.dev !== before.dev || opened.ino !== before.ino) throw fileError(`${where} was replaced while it was being opened; refusing to read it`)
    checkReadable(opened, where, path, opts, secret)
    return await readExactly(fh, opened.size, where)
  } finally {
    await fh.close()
  }
}

/** Read key material: a private (no group/other access unless forcePerms), non-empty regular file ≤ maxBytes. */
export const readSecretFile = (path: string, opts: ReadSecretFileOptions): Promise<Buffer> => readCheckedFile(path, opts, true)

/** Read a public document (a PEM key or certificate): a non-empty regular file ≤ maxBytes, any permissions. */
export const readPublicFile = (path: string, opts: ReadFileOptions): Promise<Buffer> => readCheckedFile(path, opts, false)
