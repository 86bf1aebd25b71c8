/** `GET /v1/me/organisation-memberships` (§8.1): the caller's memberships; needs no organisation header. */
import {ok} from '../http.js'
import {userRoute, type Route} from '../router.js'
import {membershipView} from '../views.js'

export const meRoutes: Route[] = [
  userRoute('GET', '/v1/me/organisation-memberships', (ctx) => ok(ctx.state.memberships
    .filter((m) => m.subject === ctx.principal.subject)
    .flatMap((m) => {
      const org = ctx.state.orgs.find((o) => o.identity === m.orgIdentity)
      return org === undefined ? [] : [membershipView(m, org, ctx.principal)]
    }))),
]
