import {describe, expect, it} from 'vitest'
import {Pool} from '../../src/util/pool.js'

const tick = () => new Promise((r) => setImmediate(r))

describe('Pool', () => {
  it('never runs more than the limit at once and runs everything', async () => {
    const pool = new Pool(3)
    let running = 0
    let peak = 0
    const done: number[] = []
    await Promise.all(Array.from({length: 20}, (_, i) => pool.run(async () => {
      running++
      peak = Math.max(peak, running)
      await tick()
      running--
      done.push(i)
    })))
    expect(peak).toBe(3)
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({length: 20}, (_, i) => i))
  })

  it('lets a task enqueue follow-up work without deadlocking', async () => {
    const pool = new Pool(1)
    const order: string[] = []
    await pool.run(async () => {
      order.push('parent')
      void pool.run(async () => order.push('child'))
    })
    await tick()
    await tick()
    expect(order).toEqual(['parent', 'child'])
  })

  it('keeps its slot count right when tasks fail', async () => {
    const pool = new Pool(2)
    await expect(pool.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(pool.running).toBe(0)
    expect(await pool.run(async () => 42)).toBe(42)
  })

  it('refuses work once aborted', async () => {
    const ac = new AbortController()
    const pool = new Pool(1, ac.signal)
    ac.abort(new Error('stop'))
    await expect(pool.run(async () => 1)).rejects.toThrow('stop')
  })

  it('rejects a nonsensical limit', () => {
    expect(() => new Pool(0)).toThrow(RangeError)
  })
})
