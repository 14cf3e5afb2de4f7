// syncgate sealing key bootstrap (the chart's post-install/post-upgrade Job).
// Creates one sealing key Secret in the gate's namespace when no usable active key exists
// (label syncgate.dev/sealing-key=active), using the gate's own library from the image.
// It never replaces, relabels or deletes a key. Exit 0: a key exists or was created; 1: failure.
const dist = process.env.SYNCGATE_DIST ?? '/app/dist';
const kube = await import(`${dist}/kube/index.js`);
const secrets = await import(`${dist}/secrets/index.js`);

function fail(message) {
  process.stderr.write(`syncgate bootstrap: ${message}\n`);
  process.exit(1);
}

const namespace = kube.gateNamespace();
if (!namespace) fail('cannot tell the gate namespace (POD_NAMESPACE is not set and there is no service account namespace file)');

try {
  const client = kube.KubeClient.fromOptions({});
  const { items } = await client.listSecrets(namespace, kube.SEALING_KEY_SELECTOR);
  const usable = [];
  const broken = [];
  for (const secret of items) {
    try {
      usable.push(kube.keyFromSecret(secret).keyId);
    } catch (err) {
      broken.push(`${secret.metadata?.name ?? '(unnamed)'} (${err.code ?? 'error'})`);
    }
  }
  if (usable.length > 0) {
    process.stdout.write(`syncgate bootstrap: ${usable.length} active sealing key(s) in ${namespace}: ${usable.join(', ')}; nothing to do\n`);
    process.exit(0);
  }
  if (broken.length > 0) {
    fail(`active sealing key Secrets in ${namespace} cannot be used: ${broken.join(', ')}; fix or relabel them (no new key was made)`);
  }
  const key = secrets.generateSealingKey();
  await client.createSecret(namespace, kube.keySecretManifest(key, namespace));
  process.stdout.write(`syncgate bootstrap: created sealing key ${key.keyId} in Secret ${namespace}/${kube.keySecretName(key)}; back it up (see the chart's NOTES)\n`);
} catch (err) {
  fail(`${err.code ?? 'ERROR'}: ${err.message}`);
}
