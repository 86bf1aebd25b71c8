/** `GET /v1/projects` and `GET /v1/projects/{identity}` (identity or slug); called without a project header. */
import {notFound, ok} from '../http.js'
import {orgRoute, type Route} from '../router.js'
import {projectView} from '../views.js'

export const projectRoutes: Route[] = [
  orgRoute('GET', '/v1/projects', (ctx) =>
    ok(ctx.state.projects.filter((p) => p.orgIdentity === ctx.org.identity).map(projectView)), false),
  orgRoute('GET', '/v1/projects/:identity', (ctx) => {
    const ref = ctx.params.identity
    const p = ctx.state.projects.find((x) => x.orgIdentity === ctx.org.identity && (x.identity === ref || x.slug === ref))
    if (p === undefined) throw notFound('project not found')
    return ok(projectView(p))
  }, false),
]
