// Just enough of the Kubernetes API for the gate to start with `sealing.kubernetes` (the mode the
// Helm chart deploys): the list of key Secrets in one namespace, and a watch on them that stays
// open and quiet. Everything else is 404. On 127.0.0.1, plain HTTP, one bearer token.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

/** Starts the stand-in serving `secrets` (Secret objects) in `namespace`; writes a kubeconfig for it to `kubeconfigFile`. */
export async function startKubeApi({ namespace, secrets, kubeconfigFile, token = 'bench-token' }) {
  const list = `/api/v1/namespaces/${namespace}/secrets`;
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) return reply(res, 401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
    if (req.method !== 'GET' || url.pathname !== list) return reply(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders(); // the client waits for the headers; then open until the gate or the server closes it
      return;
    }
    reply(res, 200, { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: secrets.map((s) => ({ ...s, metadata: { ...s.metadata, resourceVersion: '1', uid: s.metadata.name } })) });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  writeFileSync(
    kubeconfigFile,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node speaks plain http only with this set (there is no TLS to verify on loopback).
      clusters: [{ name: 'bench', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'bench', user: { token } }],
      contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench', namespace } }],
      'current-context': 'bench',
    }),
  );
  return {
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
