// Sealed secrets: seal and unseal N short values with syncgate's library (X25519 by node:crypto,
// HSalsa20 + XSalsa20-Poly1305 by tweetnacl), and, for reference in the same run, the rate of
// tweetnacl's own nacl.box.open (X25519 in JavaScript) on the same kind of value. Then the gate's
// secrets stage as one decision runs it: the typical application (bench/gate-app.mjs: 150
// manifests, 10 values in 2 SealedSecrets of 5), inline delivery, called directly.
import { performance } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { deliverSecrets } from '../dist/gate/secrets-stage.js';
import { SealingKeyring, formatPrivateKey, generateSealingKey, parsePrivateKey, sealValue, unsealSealedSecret } from '../dist/secrets/index.js';
import { generateCompliantApplication } from './gate-app.mjs';

const VALUES_PER_OBJECT = 10;

function rate(count, ms) {
  return Math.round((count / ms) * 1000);
}

export async function run({ quick }) {
  const count = quick ? 1000 : 10_000;
  const key = generateSealingKey();
  const keyring = new SealingKeyring([key]);
  const values = Array.from({ length: count }, (_, i) => `value-${i}-${'x'.repeat(24)}`);

  // Seal: one envelope per value, strict scope, 10 data keys per object.
  const objects = [];
  let start = performance.now();
  for (let o = 0; o < count / VALUES_PER_OBJECT; o++) {
    const encryptedData = {};
    for (let v = 0; v < VALUES_PER_OBJECT; v++) {
      const dataKey = `k${v}`;
      encryptedData[dataKey] = sealValue(values[o * VALUES_PER_OBJECT + v], key, { scope: 'strict', namespace: 'bench', name: `s${o}`, dataKey });
    }
    objects.push({ apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: `s${o}`, namespace: 'bench' }, spec: { encryptedData } });
  }
  const sealMs = performance.now() - start;

  // Unseal: whole objects through the public API (parse, open every value, build the Secret).
  start = performance.now();
  let opened = 0;
  for (const obj of objects) opened += Object.keys(unsealSealedSecret(obj, keyring).data).length;
  const unsealMs = performance.now() - start;
  if (opened !== count) throw new Error(`opened ${opened} of ${count}`);

  // Reference: tweetnacl-only box open (the whole crypto_box in JavaScript), same value sizes.
  const refCount = Math.min(count, quick ? 300 : 2000);
  const recipient = nacl.box.keyPair();
  const boxes = values.slice(0, refCount).map((v) => {
    const eph = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    return { box: nacl.box(Buffer.from(v), nonce, recipient.publicKey, eph.secretKey), nonce, pub: eph.publicKey };
  });
  start = performance.now();
  for (const b of boxes) if (!nacl.box.open(b.box, b.nonce, b.pub, recipient.secretKey)) throw new Error('tweetnacl open failed');
  const refMs = performance.now() - start;

  // The secrets stage of one decision, with the key read from its file text as the gate reads it.
  const stageRuns = quick ? 300 : 3000;
  const stageKeyring = new SealingKeyring([parsePrivateKey(formatPrivateKey(key), 'bench')]);
  const sealing = { keyring: stageKeyring, bitnamiKeys: [], configured: true, delivery: 'inline', adoptExisting: false, kube: undefined };
  const manifests = generateCompliantApplication(150, { publicKey: key, sealedValues: VALUES_PER_OBJECT }).map((object, index) => ({ object, index }));
  const application = { name: 'shop', project: 'default', destination: { namespace: 'shop' } };
  const stageTimes = [];
  for (let i = 0; i < stageRuns + stageRuns / 10; i++) {
    start = performance.now();
    const outcome = await deliverSecrets(manifests, sealing, application);
    if (i >= stageRuns / 10) stageTimes.push((performance.now() - start) * 1000); // after a warm-up
    if (outcome.inline.reduce((n, secret) => n + Object.keys(secret.data).length, 0) !== VALUES_PER_OBJECT) throw new Error('the stage did not unseal every value');
  }
  stageTimes.sort((a, b) => a - b);
  const stageMedianUs = Math.round(stageTimes[Math.floor(stageTimes.length / 2)]);
  const stageP90Us = Math.round(stageTimes[Math.floor(stageTimes.length * 0.9)]);

  const sealRate = rate(count, sealMs);
  const unsealRate = rate(count, unsealMs);
  const refRate = rate(refCount, refMs);
  console.log(`${count} values of ${values[0].length} bytes, ${VALUES_PER_OBJECT} per SealedSecret, one core`);
  console.log(`  seal    (sealValue)                 ${String(sealRate).padStart(7)} values/s   (${(sealMs / 1000).toFixed(2)} s)`);
  console.log(`  unseal  (unsealSealedSecret)        ${String(unsealRate).padStart(7)} values/s   (${(unsealMs / 1000).toFixed(2)} s)`);
  console.log(`  reference: tweetnacl nacl.box.open  ${String(refRate).padStart(7)} values/s   (${refCount} boxes)   unseal is ${(unsealRate / refRate).toFixed(1)}x faster`);
  console.log(`  gate secrets stage, ${VALUES_PER_OBJECT} values (2 SealedSecrets among 150 manifests, inline): median ${stageMedianUs} µs, p90 ${stageP90Us} µs per decision (${stageRuns} runs)`);
  return { count, sealRate, unsealRate, refRate, stageMedianUs, stageP90Us };
}
