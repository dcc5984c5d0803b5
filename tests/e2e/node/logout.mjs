// Verifies a back-channel logout token as a relying party would (Back-Channel Logout 1.0 §2.6):
//   node logout.mjs <issuer> <client_id> <logout_token>  → the verified claims as JSON
// openid-client discovers the issuer's metadata; the signature is checked against its jwks_uri
// with jose (openid-client's own JOSE library; openid-client has no logout-token helper), with
// iss, aud, typ logout+jwt; then the §2.6 rules: events member, sub or sid, no nonce.
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [, , issuer, clientId, token] = process.argv;
try {
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  if (!metadata.backchannel_logout_supported) throw new Error('backchannel_logout_supported is not true');
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: metadata.issuer, audience: clientId, typ: 'logout+jwt', maxTokenAge: '15m',
  });
  const event = payload.events?.['http://schemas.openid.net/event/backchannel-logout'];
  if (typeof event !== 'object' || event === null) throw new Error('no back-channel logout event');
  if (!payload.sub && !payload.sid) throw new Error('neither sub nor sid');
  if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (err) {
  console.error(String(err && err.stack || err));
  process.exit(1);
}
