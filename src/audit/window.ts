/**
 * Helpers for paging the audit API, which has no time filter: pages are fetched until one lies entirely
 * before the review window. The server's sort order is undocumented, so the pager checks it with
 * `isNewestFirst` before relying on `pageIsPastWindow`.
 */
interface Timestamped {
  createdAt: string
}

/** True when timestamps never increase along the page (newest first); unparsable timestamps make it false. */
export const isNewestFirst = (items: readonly Timestamped[]): boolean =>
  items.every((item, index) => {
    const time = Date.parse(item.createdAt)
    return !Number.isNaN(time) && (index === 0 || Date.parse(items[index - 1].createdAt) >= time)
  })

/**
 * True when every item of a newest-first page is older than `from`, so later pages cannot reach the window.
 * An empty page counts as past the window: there is nothing more to read.
 */
export const pageIsPastWindow = (items: readonly Timestamped[], from: Date): boolean =>
  items.every((item) => Date.parse(item.createdAt) < from.getTime())
