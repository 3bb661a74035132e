import { codeOf, startTestApi, TestApi } from '../support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' }); // deliveries are not the subject here
});
afterAll(async () => {
  await api.close();
});

test('a project, blueprint, document and webhook through the contract operations', async () => {
  const project = await api.op(api.adminToken, 'CreateProject', { input: { name: 'Blog' } });
  expect(codeOf(project)).toBe('OK');
  const projectId = project.data.createProject.id;
  const bp = await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Blog Post', fields: [{ name: 'body', type: 'richtext' }] } });
  expect(bp.data.createBlueprint).toMatchObject({ name: 'Blog Post', apiName: 'blogPost', variant: 'DOCUMENT' });
  const doc = await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId: bp.data.createBlueprint.id, title: 'Hello', fields: { body: 'x' } } });
  expect(doc.data.createDocument).toMatchObject({ status: 'DRAFT', statusId: 0, title: 'Hello', fields: { body: 'x' } });
  const hook = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name: 'n', url: 'http://127.0.0.1:9/hook', triggers: ['DOCUMENT_CREATE'], headers: [{ name: 'X-Key', value: 'supersecretvalue', secret: true }] },
  });
  expect(codeOf(hook)).toBe('OK');
  expect(hook.data.createWebhook.signingSecret).toMatch(/^whsec_/);
  expect(hook.data.createWebhook.headers).toEqual([{ name: 'X-Key', value: '••••alue', secret: true }]);
  const list = await api.op(api.adminToken, 'Webhooks', { projectId });
  expect(list.data.webhooks[0]).toMatchObject({ successfulCallsLast30Days: 0, failedCallsLast30Days: 0 });
});
