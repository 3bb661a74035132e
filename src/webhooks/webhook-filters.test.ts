import { AppError } from '../common/app-error';
import { DocumentStatus } from '../cms/document.entity';
import { ActorFilterMode, validateActorFilterShape, validateChangedFields, validateDocumentStatuses } from './webhook-filters';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as AppError).message;
  }
  return undefined;
}

describe('webhook content filter validation', () => {
  it('statuses: non-empty, no repeats, sorted', () => {
    expect(validateDocumentStatuses([DocumentStatus.PUBLISHED, DocumentStatus.CHANGED])).toEqual([1, 2]);
    expect(fieldOf(() => validateDocumentStatuses([]))).toMatch(/^input\.documentStatuses: must list at least one/);
    expect(fieldOf(() => validateDocumentStatuses([2, 2]))).toMatch(/^input\.documentStatuses\[1\]: is listed twice/);
  });

  it('changed fields: non-empty, trimmed names, no repeats', () => {
    expect(validateChangedFields(['title', 'slug'])).toEqual(['title', 'slug']);
    expect(fieldOf(() => validateChangedFields([]))).toMatch(/^input\.changedFields: /);
    expect(fieldOf(() => validateChangedFields(['a', ' b']))).toMatch(/^input\.changedFields\[1\]: /);
    expect(fieldOf(() => validateChangedFields(['a', 'a']))).toMatch(/^input\.changedFields\[1\]: is listed twice/);
  });

  it('actor filter: at least one UUID, no repeats', () => {
    const U = '33333333-3333-4333-8333-333333333333';
    expect(validateActorFilterShape({ mode: ActorFilterMode.EXCLUDE, userIds: [U.toUpperCase()] })).toEqual({ mode: 'EXCLUDE', userIds: [U], tokenIds: [] });
    expect(fieldOf(() => validateActorFilterShape({ mode: ActorFilterMode.INCLUDE, userIds: [], tokenIds: null }))).toMatch(/^input\.actorFilter: must list/);
    expect(fieldOf(() => validateActorFilterShape({ mode: ActorFilterMode.INCLUDE, tokenIds: ['x'] }))).toMatch(/^input\.actorFilter\.tokenIds\[0\]: must be a UUID/);
    expect(fieldOf(() => validateActorFilterShape({ mode: ActorFilterMode.INCLUDE, userIds: [U, U] }))).toMatch(/^input\.actorFilter\.userIds\[1\]: is listed twice/);
  });
});
