import { SyncgateError } from '../errors.js';
import { readObject } from '../git/repository.js';
import { decodeObject, type GateRequest } from './request.js';

export interface GateObjects {
  commit: Buffer;
  tag?: Buffer;
}

/** Stage: the raw objects, from the request body or read from `repoPath` with git. */
export async function loadObjects(request: GateRequest): Promise<GateObjects> {
  if (request.repoPath === undefined) {
    return {
      commit: decodeObject(request.commit!, request.encoding, 'commit'),
      ...(request.tag !== undefined ? { tag: decodeObject(request.tag, request.encoding, 'tag') } : {}),
    };
  }
  try {
    const commit = await readObject(request.repoPath, request.revision, 'commit');
    if (request.verify === 'head') return { commit };
    const tag = await readObject(request.repoPath, `refs/tags/${request.tagName!}`, 'tag');
    return { commit, tag };
  } catch (err) {
    if (err instanceof SyncgateError) throw err;
    throw new SyncgateError('OBJECT_READ_FAILED', `cannot read the objects from ${request.repoPath}: ${(err as Error).message}`, { path: 'repoPath' });
  }
}
