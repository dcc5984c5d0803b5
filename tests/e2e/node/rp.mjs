// A relying party built on openid-client, in two steps so a browser can log in between them.
//   node rp.mjs start  <issuer> <client_id> <client_secret> <redirect_uri> <scope>
//     → {"url", "code_verifier", "state", "nonce"}
//   node rp.mjs finish <issuer> <client_id> <client_secret> <callback_url> <code_verifier> <state> <nonce>
//     → {"claims": <validated ID token claims>, "userinfo": {...}, "access_token_type": ...}
// openid-client checks iss (RFC 9207), state, PKCE, the ID token's signature, aud, azp, nonce
// and expiry itself; any failure exits non-zero with the library's message.
import * as client from 'openid-client';

const [, , step, issuer, clientId, clientSecret, ...rest] = process.argv;

async function discover() {
  return client.discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), {
    execute: [client.allowInsecureRequests],
  });
}

try {
  const config = await discover();
  if (step === 'start') {
    const [redirectUri, scope] = rest;
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope, state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    console.log(JSON.stringify({ url: url.href, code_verifier: codeVerifier, state, nonce }));
  } else if (step === 'finish') {
    const [callbackUrl, codeVerifier, state, nonce] = rest;
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    console.log(JSON.stringify({ claims, userinfo, token_type: tokens.token_type }));
  } else {
    throw new Error(`unknown step ${step}`);
  }
} catch (error) {
  const detail = error.error ? ` [${error.error}: ${error.error_description}]` : '';
  console.error(`${error.name}: ${error.message}${error.code ? ` (${error.code})` : ''}${detail}`);
  process.exit(1);
}
