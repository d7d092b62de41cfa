// The certified reference for bench/vs_node.py: npm oidc-provider, in memory, one process,
// one client with the settings our benchmark client has (client_secret_basic,
// client_credentials, introspection). Usage: node bench/node_provider.mjs PORT CLIENT_ID SECRET
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'introspection',
    },
  ],
  scopes: ['openid', 'introspection'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
  // Quiet: the benchmark reads the rate, not the logs.
  renderError: async (ctx, out) => { ctx.body = out; },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
