// Sealed secrets: seal and unseal N short values with syncgate's library (X25519 by node:crypto,
// HSalsa20 + XSalsa20-Poly1305 by tweetnacl), and, for reference in the same run, the rate of
// tweetnacl's own nacl.box.open (X25519 in JavaScript) on the same kind of value.
import { performance } from 'node:perf_hooks';
import nacl from 'tweetnacl';
import { SealingKeyring, generateSealingKey, sealValue, unsealSealedSecret } from '../dist/secrets/index.js';

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

  const sealRate = rate(count, sealMs);
  const unsealRate = rate(count, unsealMs);
  const refRate = rate(refCount, refMs);
  console.log(`${count} values of ${values[0].length} bytes, ${VALUES_PER_OBJECT} per SealedSecret, one core`);
  console.log(`  seal    (sealValue)                 ${String(sealRate).padStart(7)} values/s   (${(sealMs / 1000).toFixed(2)} s)`);
  console.log(`  unseal  (unsealSealedSecret)        ${String(unsealRate).padStart(7)} values/s   (${(unsealMs / 1000).toFixed(2)} s)`);
  console.log(`  reference: tweetnacl nacl.box.open  ${String(refRate).padStart(7)} values/s   (${refCount} boxes)   unseal is ${(unsealRate / refRate).toFixed(1)}x faster`);
  return { count, sealRate, unsealRate, refRate };
}
