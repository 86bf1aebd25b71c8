/**
 * A bounded-concurrency pool. Tasks may enqueue more tasks from inside (a zone list arriving starts its
 * DNSSEC reads at once), so levels of a scan overlap instead of waiting for each other. First in, first out.
 */
export class Pool {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly limit: number, private readonly signal?: AbortSignal) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`pool limit must be a positive integer, got ${limit}`)
  }

  get running(): number {
    return this.active
  }

  get queued(): number {
    return this.waiting.length
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      this.signal?.throwIfAborted()
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}
