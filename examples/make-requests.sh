#!/usr/bin/env bash
# Rebuilds examples/allowed-request.json and examples/denied-request.json with the development
# key in keys.example/ (never for production). Needs git, gpg and node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import "$root/keys.example/dev-signing-key.private.asc"
fpr=C503BE2428F6AF82B0BC0D959C6248A8E70FAD5C

git init --quiet "$work/repo"
cd "$work/repo"
cp "$here/app.yaml" app.yaml
git add app.yaml
export GIT_AUTHOR_NAME="Dev Signer" GIT_AUTHOR_EMAIL=dev-signer@example.invalid
export GIT_COMMITTER_NAME="Dev Signer" GIT_COMMITTER_EMAIL=dev-signer@example.invalid
export GIT_AUTHOR_DATE="2026-11-01T12:00:00Z" GIT_COMMITTER_DATE="2026-11-01T12:00:00Z"
git -c gpg.program=gpg -c commit.gpgsign=true -c user.signingkey="$fpr" commit --quiet -S -m "Deploy guestbook 1.4.2"
git cat-file commit HEAD > "$work/good.commit"
# The same object with its message changed after signing: the signature no longer matches.
sed 's/Deploy guestbook 1.4.2/Deploy guestbook 6.6.6/' "$work/good.commit" > "$work/bad.commit"

node - "$work" "$here" <<'JS'
const fs = require('node:fs');
const crypto = require('node:crypto');
const [work, here] = process.argv.slice(2);
const oid = (raw) => crypto.createHash('sha1').update(`commit ${raw.length}\0`).update(raw).digest('hex');
const manifests = fs.readFileSync(`${here}/app.yaml`, 'utf8');
for (const [name, file] of [['allowed', 'good.commit'], ['denied', 'bad.commit']]) {
  const raw = fs.readFileSync(`${work}/${file}`);
  const request = {
    revision: oid(raw),
    commit: raw.toString('utf8'),
    repository: 'https://git.example.invalid/acme/guestbook.git',
    application: { name: 'guestbook', project: 'default', destination: { namespace: 'guestbook', server: 'https://kubernetes.default.svc' } },
    manifests,
  };
  fs.writeFileSync(`${here}/${name}-request.json`, JSON.stringify(request, null, 2) + '\n');
}
JS
echo "wrote $here/allowed-request.json and $here/denied-request.json"
