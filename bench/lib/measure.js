/**
 * Running things and timing them: start-up commands synchronously (nothing else runs meanwhile), CLI children
 * asynchronously (the in-process emulator must keep serving) with their peak RSS, and the statistics the
 * results table shows.
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const GNU_TIME = '/usr/bin/time'

/** Wall time of one synchronous run in ms; throws when it fails, so a broken command is never "fast". */
export function timeSync(argv, {env, cwd}) {
  const started = process.hrtime.bigint()
  const res = spawnSync(argv[0], argv.slice(1), {env, cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (res.status !== 0) throw new Error(`${argv.join(' ')} exited ${res.status}: ${res.stderr.slice(0, 500)}`)
  return ms
}

/** Peak RSS in kB while polling /proc/<pid>/status (VmHWM is the high-water mark, so the last read wins). */
function pollPeakRss(pid) {
  let peak
  const read = () => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) peak = Number(m[1])
    } catch {
      // the process is gone; keep the last reading
    }
  }
  read()
  const timer = setInterval(read, 10)
  return () => {
    clearInterval(timer)
    return peak
  }
}

/**
 * Runs `node <args>` as a child, measured: wall time from spawn to exit (ms since epoch at both ends, to line
 * up with the emulator's request log), stdout/stderr, exit code, peak RSS and CPU time (GNU time -v if installed;
 * otherwise RSS from /proc and no CPU time).
 */
export function runChild(args, {env, cwd, timeoutMs = 300_000}) {
  const useTime = existsSync(GNU_TIME)
  const dir = mkdtempSync(join(tmpdir(), 'kmsguard-bench-time-'))
  const timeFile = join(dir, 'time.txt')
  const argv = useTime ? [GNU_TIME, '-v', '-o', timeFile, process.execPath, ...args] : [process.execPath, ...args]
  return new Promise((resolve, reject) => {
    const startedAt = Date.now()
    const child = spawn(argv[0], argv.slice(1), {env, cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL'})
    const stopPolling = useTime ? () => undefined : pollPeakRss(child.pid)
    let stdout = ''
    let stderr = ''
    let exitedAt = 0
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', () => (exitedAt = Date.now()))
    child.on('close', (code, signal) => {
      let peakRssKb = stopPolling()
      let cpuMs
      if (useTime) {
        const report = readFileSync(timeFile, 'utf8')
        const field = (name) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(report)?.[1])
        peakRssKb = field('Maximum resident set size \\(kbytes\\)')
        cpuMs = Math.round((field('User time \\(seconds\\)') + field('System time \\(seconds\\)')) * 1000)
      }
      rmSync(dir, {recursive: true, force: true})
      resolve({code: code ?? (signal ? 128 : 1), stdout, stderr, startedAt, exitedAt, wallMs: exitedAt - startedAt, peakRssKb, cpuMs, rssSource: useTime ? 'GNU time -v' : '/proc VmHWM (polled)'})
    })
  })
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return {median, min: sorted[0], max: sorted.at(-1), n: sorted.length}
}
