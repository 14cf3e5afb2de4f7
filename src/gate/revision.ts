import { SyncgateError } from '../errors.js';
import { objectId, parseTag } from '../git/object.js';
import type { GateObjects } from './objects.js';
import type { GateRequest } from './request.js';

const algorithmOf = (oid: string) => (oid.length === 64 ? 'sha256' : 'sha1');

/**
 * Stage: the commit must hash to the requested revision (its length picks SHA-1 or SHA-256),
 * and a tag must point at that commit (and hash to tagRevision when one is given).
 */
export function checkRevision(request: GateRequest, objects: GateObjects): void {
  const algorithm = algorithmOf(request.revision);
  const actual = objectId('commit', objects.commit, algorithm);
  if (actual !== request.revision) {
    throw new SyncgateError('REVISION_MISMATCH', `the commit object hashes to ${actual}, not to the requested revision ${request.revision}`, {
      path: 'commit',
    });
  }
  if (!objects.tag) return;
  if (request.tagRevision !== undefined) {
    const tagId = objectId('tag', objects.tag, algorithmOf(request.tagRevision));
    if (tagId !== request.tagRevision) {
      throw new SyncgateError('REVISION_MISMATCH', `the tag object hashes to ${tagId}, not to tagRevision ${request.tagRevision}`, { path: 'tag' });
    }
  }
  const tag = parseTag(objects.tag);
  if (request.tagName !== undefined && tag.tag !== request.tagName) {
    // A signed tag reached through another ref name is not the tag the caller asked about.
    throw new SyncgateError('TAG_NAME_MISMATCH', `the tag object is named ${JSON.stringify(tag.tag)}, not ${JSON.stringify(request.tagName)}`, { path: 'tagName' });
  }
  if (tag.type !== 'commit' || tag.object !== request.revision) {
    throw new SyncgateError('TAG_TARGET_MISMATCH', `the tag points at ${tag.type} ${tag.object}, not at the requested revision ${request.revision}`, {
      path: 'tag',
    });
  }
}
