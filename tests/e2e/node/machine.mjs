// openid-client's machine grants against a live Bergfried.
//   node machine.mjs client_credentials <issuer> <client_id> <client_secret> <scope>
//   node machine.mjs jwt-bearer         <issuer> <client_id> <assertion>     <scope>
//     → the token endpoint's answer as openid-client parsed and checked it
import * as client from 'openid-client';

const [, , grant, issuer, clientId, credential, scope] = process.argv;

try {
  let tokens;
  if (grant === 'client_credentials') {
    const config = await client.discovery(new URL(issuer), clientId, credential,
      client.ClientSecretBasic(credential), { execute: [client.allowInsecureRequests] });
    tokens = await client.clientCredentialsGrant(config, { scope });
  } else if (grant === 'jwt-bearer') {
    const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(),
      { execute: [client.allowInsecureRequests] });
    tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      { assertion: credential, scope });
  } else {
    throw new Error(`unknown grant ${grant}`);
  }
  console.log(JSON.stringify(tokens));
} catch (error) {
  const detail = error.error ? ` [${error.error}: ${error.error_description}]` : '';
  console.error(`${error.name}: ${error.message}${error.code ? ` (${error.code})` : ''}${detail}`);
  process.exit(1);
}
