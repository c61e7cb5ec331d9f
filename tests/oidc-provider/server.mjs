// A real OpenID provider (panva's `oidc-provider`) on loopback for Confer's
// SSO tests. Not a mock: discovery, JWKS, PKCE, the authorization code flow
// and ID token signing are the library's own. Pinned to oidc-provider 8.x
// (package.json, package-lock.json): it runs on Node.js 18, Debian 12's;
// 9.x needs Node.js 20.12 or later (`crypto.hash`).
//
//   node server.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET
//
// PORT 0 picks a free port. Once listening it prints one line,
// `oidc-provider ready issuer=http://127.0.0.1:PORT`, on stdout.
//
// Interactions are the library's development forms: the login form's
// `login` field is the account id (any password), then a consent form.
// Accounts: an account id `NAME@DOMAIN` signs in with that email (verified);
// `ORG:NAME@DOMAIN` also carries the claim `org` = ORG.

import Provider from 'oidc-provider';

const [portArg = '0', redirectUri, clientId = 'confer', clientSecret = 'confer-test-secret'] =
  process.argv.slice(2);
if (!redirectUri) {
  console.error('usage: node server.mjs PORT REDIRECT_URI [CLIENT_ID CLIENT_SECRET]');
  process.exit(2);
}

function claimsFor(id) {
  const [org, email] = id.includes(':') ? id.split(':', 2) : [undefined, id];
  const name = email.split('@')[0];
  const claims = {
    sub: `sub-${id}`,
    email,
    email_verified: !name.startsWith('unverified'),
    given_name: name.charAt(0).toUpperCase() + name.slice(1),
    family_name: 'Tester',
    name: `${name} Tester`,
  };
  if (org) claims.org = org;
  return claims;
}

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    // `org` rides on the profile scope, the way an IdP admin adds a custom
    // claim to the tokens of one application.
    profile: ['given_name', 'family_name', 'name', 'org'],
  },
  scopes: ['openid', 'email', 'profile'],
  // Put the user's claims in the ID token of the code flow too, as most
  // hosted providers do, so the relying party needs no userinfo call.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return claimsFor(id);
      },
    };
  },
};

const listener = await new Promise((resolve) => {
  // Bind first so that port 0 is resolved before the issuer is fixed.
  import('node:http').then(({ createServer }) => {
    const server = createServer();
    server.listen(Number(portArg), '127.0.0.1', () => resolve(server));
  });
});
const { port } = listener.address();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, configuration);
listener.on('request', provider.callback());
console.log(`oidc-provider ready issuer=${issuer}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => listener.close(() => process.exit(0)));
}
