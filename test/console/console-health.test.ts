import type { Browser } from 'playwright-core';
import { codeOf, ok, type TestApi } from '../support/api';
import { type Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';
import { collectPageErrors, type ConsoleRig, newPage, screenshot, signIn, startConsoleRig } from './browser';

/** Failure notifications in the console: the health badge, live, and the notification endpoints screen. */
let api: TestApi;
let receiver: Receiver;
let browser: Browser;
let baseUrl: string;
let projectId: string;

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig({ project: 'Shop', env: { WEBHOOK_FAILING_AFTER: '2' }, reply: () => ({ status: 500, body: 'down' }) });
  ({ api, receiver, browser, baseUrl, projectId } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

test('the webhooks table shows "Failing" with its reason as soon as the webhook fails, without a reload', async () => {
  const created = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'Orders', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } });
  const webhookId = ok(created, 'createWebhook').createWebhook.id;
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks`);
    const row = page.getByRole('row', { name: /Orders/ });
    await row.waitFor();
    expect(await row.getByText('Failing').count()).toBe(0);
    // The page has subscribed once the server holds its stream; then two failed calls.
    await waitUntil('the console to subscribe to health changes', () => api.app.services.healthFeed.subscriberCount(projectId) > 0, 20_000);
    for (let i = 0; i < 2; i++) expect(codeOf(await api.op(api.adminToken, 'TestWebhook', { id: webhookId }))).toBe('OK');
    await row.getByText('Failing', { exact: true }).waitFor();
    await row.getByText('2 consecutive calls failed').waitFor();
    await screenshot(page, 'health-badge');
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('an admin adds a notification endpoint: it is listed with the events it gets and its signing secret', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks`);
    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Failure notifications' }).waitFor();
    await page.getByLabel('URL', { exact: true }).fill('ftp://ops.example.com/hooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText(/^input\.url: /).waitFor();

    await page.getByLabel('URL', { exact: true }).fill('https://ops.example.com/hooks');
    await page.getByLabel('Name', { exact: true }).fill('On-call');
    await page.getByRole('checkbox', { name: /Recovered/ }).uncheck();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const row = page.getByRole('row', { name: /On-call/ });
    await row.waitFor();
    await row.getByText('Failing, Disabled soon, Disabled').waitFor();
    await screenshot(page, 'notification-endpoints');

    const stored = ok(await api.gql(api.adminToken, `query($p: ID!) { notificationEndpoints(projectId: $p) { name url types signingSecret } }`, { p: projectId }), 'list');
    expect(stored.notificationEndpoints).toEqual([
      { name: 'On-call', url: 'https://ops.example.com/hooks', types: ['WEBHOOK_FAILING', 'WEBHOOK_DISABLE_WARNING', 'WEBHOOK_DISABLED'], signingSecret: expect.stringMatching(/^whsec_/) },
    ]);
    await row.getByText(stored.notificationEndpoints[0].signingSecret.slice(0, 10)).waitFor();
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('"Send test notification" reports the delivery, and "Rotate signing secret" shows the new secret once', async () => {
  const pager = await startReceiver(() => ({ status: 204 }));
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    const created = await api.gql(api.adminToken, `mutation($p: ID!, $url: String!) { createNotificationEndpoint(projectId: $p, input: { name: "Pager", url: $url }) { id signingSecret } }`, {
      p: projectId,
      url: pager.url,
    });
    const endpoint = ok(created, 'createNotificationEndpoint').createNotificationEndpoint;
    await signIn(page, api.adminToken, `/projects/${projectId}/notifications`);
    const row = page.getByRole('row', { name: /^Pager/ });
    await row.getByRole('button', { name: 'Send test notification' }).click();
    await page.getByRole('status').filter({ hasText: 'Test notification to Pager delivered: HTTP 204' }).waitFor();
    expect(pager.requests).toHaveLength(1);
    expect(JSON.parse(pager.requests[0].body)).toMatchObject({ type: 'webhook.failing', test: true });

    await row.getByRole('button', { name: 'Rotate signing secret' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'New signing secret of Pager' });
    await notice.waitFor();
    const secret = ok(await api.gql(api.adminToken, `query($p: ID!) { notificationEndpoints(projectId: $p) { id signingSecret } }`, { p: projectId }), 'list').notificationEndpoints.find(
      (e: { id: string }) => e.id === endpoint.id,
    ).signingSecret;
    expect(secret).not.toBe(endpoint.signingSecret);
    await notice.getByText(secret, { exact: true }).waitFor();
    await screenshot(page, 'notification-endpoint-tools');
    expect(errors).toEqual([]);
  } finally {
    await context.close();
    await pager.close();
  }
});
