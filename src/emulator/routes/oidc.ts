/**
 * `POST /oidc/token`: OAuth2 client-credentials grant. The client id and secret come either as HTTP Basic
 * (form-urlencoded then base64, per RFC 6749 §2.3.1) or as `client_id` / `client_secret` form fields.
 */
import {ACCESS_TOKEN_TTL_SECONDS, authenticateClient, issueAccessToken} from '../auth.js'
import {badRequest, ok, unauthorized, type Reply} from '../http.js'
import {publicRoute, type BaseContext, type Route} from '../router.js'

function basicCredentials(header: string | undefined): {id: string; secret: string} | undefined {
  const m = /^Basic (\S+)$/i.exec(header ?? '')
  if (m === null) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return s
    }
  }
  return {id: unescape(decoded.slice(0, i)), secret: unescape(decoded.slice(i + 1))}
}

function token(ctx: BaseContext): Reply {
  const form = new URLSearchParams(ctx.rawBody)
  const grant = form.get('grant_type')
  if (grant !== 'client_credentials') throw badRequest('unsupported grant_type: this emulator supports client_credentials')
  const basic = basicCredentials(ctx.headers.authorization)
  const id = basic?.id ?? form.get('client_id')
  const secret = basic?.secret ?? form.get('client_secret')
  if (id === null || secret === null) throw unauthorized('client credentials missing (HTTP Basic or client_id/client_secret)')
  const subject = authenticateClient(ctx.state, id, secret)
  return ok({access_token: issueAccessToken(ctx.state, subject, ctx.now), token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS})
}

export const oidcRoutes: Route[] = [publicRoute('POST', '/oidc/token', token)]
