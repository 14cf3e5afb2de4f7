// Just enough of the Kubernetes API for the gate to start with `sealing.kubernetes` (the mode the
// Helm chart deploys): the list of key Secrets in one namespace, and a watch on them that stays
// open and quiet. Everything else is 404. On 127.0.0.1, over TLS as an API server always is (a
// certificate made by openssl for the run, given to the gate as the kubeconfig's CA), one bearer
// token.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';

function serverCertificate() {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-kube-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-subj', '/CN=bench-kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the stand-in serving `secrets` (Secret objects) in `namespace`; writes a kubeconfig for it to `kubeconfigFile`. */
export async function startKubeApi({ namespace, secrets, kubeconfigFile, token = 'bench-token' }) {
  const list = `/api/v1/namespaces/${namespace}/secrets`;
  const tls = serverCertificate();
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
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
  const url = `https://127.0.0.1:${server.address().port}`;
  writeFileSync(
    kubeconfigFile,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bench', cluster: { server: url, 'certificate-authority-data': Buffer.from(tls.cert).toString('base64') } }],
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
