// The real @supabase/supabase-js against the local Supabase stand-in (gateway).
// Driven by gateway/tests/contract/supabase_js.rs, which starts the gateway and
// PostgREST on free ports, creates the user and a `gateway_test_notes` table with
// row-level security, and passes:
//   SUPABASE_URL, SUPABASE_ANON_KEY, TEST_EMAIL, TEST_PASSWORD, EXPECTED_USER_ROLE
// Exits non-zero (an uncaught assertion) on any mismatch.
import assert from 'node:assert/strict'
import { createClient } from '@supabase/supabase-js'

function env(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const url = env('SUPABASE_URL')
const anonKey = env('SUPABASE_ANON_KEY')
const email = env('TEST_EMAIL')
const password = env('TEST_PASSWORD')
const expectedRole = env('EXPECTED_USER_ROLE')

// Realtime is not part of the local stack. supabase-js builds its realtime client
// eagerly and, on Node < 22 (no global WebSocket), refuses to start without a
// transport: this one is never used because no channel is subscribed.
class NoRealtimeTransport {
  constructor() {
    throw new Error('realtime is not part of the local stack')
  }
}

const supabase = createClient(url, anonKey, {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: NoRealtimeTransport },
})

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
}

// A wrong password: supabase-js only exposes the error code when the response
// echoes X-Supabase-Api-Version.
{
  const { data, error } = await supabase.auth.signInWithPassword({ email, password: `${password}-wrong` })
  assert.equal(data.session, null)
  assert.equal(error?.name, 'AuthApiError')
  assert.equal(error.status, 400)
  assert.equal(error.code, 'invalid_credentials')
  assert.equal(error.message, 'Invalid login credentials')
}

// signInWithPassword
const { data: signIn, error: signInError } = await supabase.auth.signInWithPassword({ email, password })
assert.ifError(signInError)
const first = signIn.session
assert.equal(signIn.user.email, email)
assert.equal(first.token_type, 'bearer')
assert.equal(first.expires_in, 3600)
assert.equal(first.refresh_token.length, 12)
const claims = claimsOf(first.access_token)
assert.equal(claims.sub, signIn.user.id)
assert.equal(claims.role, 'authenticated')
assert.equal(claims.user_role, expectedRole)
assert.equal(claims.session_id.length, 36)

// getUser (asks the server)
const { data: userData, error: userError } = await supabase.auth.getUser()
assert.ifError(userError)
assert.equal(userData.user.id, signIn.user.id)
assert.equal(userData.user.email, email)

// A query through /rest/v1 with the user's token: RLS shows only their rows.
{
  const { data, error } = await supabase.from('gateway_test_notes').select('body').order('id')
  assert.ifError(error)
  assert.deepEqual(data, [{ body: 'mine' }])
  const { count, error: countError } = await supabase
    .from('gateway_test_notes')
    .select('*', { count: 'exact', head: true })
  assert.ifError(countError)
  assert.equal(count, 1)
}

// refreshSession rotates the refresh token and keeps the session.
const { data: refreshed, error: refreshError } = await supabase.auth.refreshSession()
assert.ifError(refreshError)
assert.notEqual(refreshed.session.refresh_token, first.refresh_token)
assert.equal(claimsOf(refreshed.session.access_token).session_id, claims.session_id)
{
  const { data, error } = await supabase.from('gateway_test_notes').select('body')
  assert.ifError(error)
  assert.deepEqual(data, [{ body: 'mine' }])
}

// signOut ends the session on the server.
const { error: signOutError } = await supabase.auth.signOut()
assert.ifError(signOutError)
{
  const { data, error } = await supabase.auth.getUser(refreshed.session.access_token)
  assert.equal(data.user, null)
  assert.equal(error?.name, 'AuthSessionMissingError')
}
{
  const { error } = await supabase.auth.refreshSession({ refresh_token: refreshed.session.refresh_token })
  assert.equal(error?.status, 400)
  assert.equal(error.code, 'refresh_token_not_found')
}
// Signed out, the client is anon again: the table shows nothing.
{
  const { data, error } = await supabase.from('gateway_test_notes').select('body')
  assert.ifError(error)
  assert.deepEqual(data, [])
}

console.log('supabase-js contract: ok')
