import { DataSource } from 'typeorm';
import { Blueprint } from '../../src/cms/blueprint.entity';
import { Document } from '../../src/cms/document.entity';
import { Project } from '../../src/cms/project.entity';
import type { User } from '../../src/auth/user.entity';
import { inTransaction } from '../../src/db/transaction';
import { createTestDatabase } from '../support/database';

/** The outbox at the TypeORM level: events exist exactly when their change committed. */
let dataSource: DataSource;
let projectId: string;
let blueprintId: string;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('outbox'));
  const project = await dataSource.getRepository(Project).save({ name: 'p' });
  projectId = project.id;
  const blueprint = await inTransaction(dataSource, null, (m) =>
    m.save(m.create(Blueprint, { projectId, name: 'b', apiName: 'b', fields: [{ id: 'f1', name: 'body', type: 'string' }] })),
  );
  blueprintId = blueprint.id;
});
afterAll(async () => {
  await dataSource.destroy();
});

const eventsOf = (documentIds: string[]) =>
  dataSource.query(`SELECT trigger, metadata, actor_token_id FROM domain_event WHERE metadata->>'document_id' = ANY($1) ORDER BY created_at`, [documentIds]);

test('saving several documents in one call writes one event each, in the same transaction', async () => {
  // Overlapping queries on one pg client are deprecated (an error from pg 9 on): count a
  // query issued while the client still has queued ones, which is what pg warns about.
  const { Client } = require('pg');
  const original = Client.prototype.query;
  let overlapping = 0;
  Client.prototype.query = function (this: { _queryQueue: unknown[] }, ...args: unknown[]) {
    if (this._queryQueue.length > 0) overlapping += 1;
    return original.apply(this, args);
  };
  const saved = await inTransaction(dataSource, null, (m) =>
    m.save(Array.from({ length: 20 }, (_, i) => m.create(Document, { projectId, blueprintId, title: `t${i}`, fields: {} }))),
  );
  const events = await eventsOf(saved.map((d) => d.id));
  expect(events).toHaveLength(20);
  expect(new Set(events.map((e: { metadata: { document_id: string } }) => e.metadata.document_id)).size).toBe(20);
  Client.prototype.query = original;
  expect(overlapping).toBe(0);
});

test('a transaction that rolls back leaves no event; the actor is stamped on committed ones', async () => {
  const actorId = '00000000-0000-4000-8000-000000000001';
  const actor = { user: { id: actorId } as User, tokenId: '00000000-0000-4000-8000-000000000002' };
  let rolledBackId = '';
  await expect(
    inTransaction(dataSource, actor, async (m) => {
      rolledBackId = (await m.save(m.create(Document, { projectId, blueprintId, title: 'x', fields: {} }))).id;
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  expect(await eventsOf([rolledBackId])).toHaveLength(0);

  const kept = await inTransaction(dataSource, actor, (m) => m.save(m.create(Document, { projectId, blueprintId, title: 'y', fields: {} })));
  const [event] = await eventsOf([kept.id]);
  expect(event.trigger).toBe('document_create');
  expect(event.metadata.triggered_user_id).toBe(actorId);
  // The token is a column beside the contract's metadata, never in it.
  expect(event.actor_token_id).toBe(actor.tokenId);
  expect(Object.keys(event.metadata)).not.toContain('actor_token_id');
});
