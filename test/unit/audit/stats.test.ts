import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {medianAndMad} from '../../../src/audit/stats.js'

const naiveMedian = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

describe('medianAndMad', () => {
  it('matches a dense computation over the series with its zeros filled in', () => {
    fc.assert(fc.property(fc.array(fc.integer({min: 1, max: 500}), {maxLength: 40}), fc.integer({min: 0, max: 60}), (values, zeros) => {
      const dense = [...values, ...Array.from({length: zeros}, () => 0)]
      const median = naiveMedian(dense)
      expect(medianAndMad(values, zeros)).toEqual({median, mad: naiveMedian(dense.map((value) => Math.abs(value - median)))})
    }))
  })

  it('gives a steady baseline zero MAD and an empty series zeros', () => {
    expect(medianAndMad([5, 5, 5, 200], 0)).toEqual({median: 5, mad: 0})
    expect(medianAndMad([], 0)).toEqual({median: 0, mad: 0})
    expect(medianAndMad([10], 3)).toEqual({median: 0, mad: 0})
  })
})
