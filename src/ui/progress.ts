/**
 * Progress for long reads (reference scans, audit paging, fleet operations): listr2 on a terminal, rendered
 * to stderr so stdout stays clean for data; nothing at all in --json or non-TTY runs.
 */
export interface Progress {
  update(text: string): void
  done(text?: string): Promise<void>
}

export interface ProgressFactory {
  start(title: string): Progress
}

export const silentProgress: ProgressFactory = {
  start: () => ({update() {}, done: async () => {}}),
}

export function listrProgress(): ProgressFactory {
  return {
    start(title: string): Progress {
      let setTitle: ((t: string) => void) | undefined
      let finish!: (t?: string) => void
      const finished = new Promise<string | undefined>((resolve) => {
        finish = resolve
      })
      const running = import('listr2').then(async ({Listr, ListrLogger, ProcessOutput}) => {
        const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
        const list = new Listr([{
          title,
          task: async (_ctx: unknown, task: {title: string}) => {
            setTitle = (t) => {
              task.title = t
            }
            const last = await finished
            if (last) task.title = last
          },
        }], {rendererOptions: {logger}, fallbackRendererOptions: {logger}, registerSignalListeners: false, exitOnError: false, fallbackRendererCondition: () => !process.stderr.isTTY || Boolean(process.env.CI) || process.env.TERM === 'dumb'})
        await list.run()
      })
      return {
        update: (text) => setTitle?.(`${title}: ${text}`),
        async done(text) {
          finish(text)
          await running
        },
      }
    },
  }
}
