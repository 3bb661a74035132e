import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { callRow, insertCalls } from '../support/fixtures';
import { waitUntil } from '../support/wait';
import { codeOf, createProject, TestApi } from '../support/api';
import { ReceivedRequest, Receiver } from '../support/receiver';
import { collectPageErrors, type ConsoleRig, newPage, screenshot, signIn, startConsoleRig } from './browser';

// Callbacks passed to page.evaluate run in the browser; these are its globals there.
declare const window: any, document: any, navigator: any, sessionStorage: any;

/**
 * The activity log in Chromium: a document created through the API reaches the open log by
 * itself, its details are the request the receiver got, and the two ways to send it again
 * (Copy as curl, Replay) really send it.
 */
let api: TestApi;
let receiver: Receiver;
let browser: Browser;
let baseUrl: string;
let projectId: string;
let blueprintId: string;
let webhookId: string;
/** Shared by the tests in order: the page on the log, and the first call it showed. */
let page: Page;
let closePage: () => Promise<void>;
let firstCallId: string;
let pageErrors: string[];

const LIVE_DEADLINE_MS = 2000;

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig({ project: 'Shop' });
  ({ api, receiver, browser, baseUrl, projectId } = rig);
  const blueprint = await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Product', fields: [{ name: 'price', type: 'number' }] } });
  blueprintId = blueprint.data.createBlueprint.id;
  const webhook = await api.op(api.adminToken, 'CreateWebhook', {
    projectId,
    input: { name: 'Storefront', url: receiver.url, triggers: ['DOCUMENT_CREATE'], headers: [{ name: 'X-Source', value: 'cms-console-test' }] },
  });
  webhookId = webhook.data.createWebhook.id;
  const opened = await newPage(browser, baseUrl);
  page = opened.page;
  pageErrors = collectPageErrors(page);
  closePage = () => opened.context.close();
}, 60_000);

afterAll(async () => {
  await closePage?.();
  await rig?.close();
});

const log = () => page.getByRole('table', { name: 'Activity log' });
const subscribers = () => api.app.services.webhookCallPubSub.subscriberCount();

test('a document created through the API appears in the open log within 2 s, without a reload', async () => {
  await signIn(page, api.adminToken, `/projects/${projectId}/activity`);
  await page.getByText('No calls logged yet').waitFor();
  await page.getByText('“Document update” needs a status change, such as publishing a document').waitFor();
  await page.getByRole('status').filter({ hasText: 'Live: new calls appear at the top' }).waitFor();
  await screenshot(page, 'activity-empty');
  await waitUntil('the page\u2019s subscription to start on the server', () => subscribers() === 1, 10_000);
  await page.evaluate(() => (window.marker = 'same page'));

  const started = Date.now();
  const created = await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'Blue mug', fields: { price: 12 } } });
  expect(codeOf(created)).toBe('OK');
  const row = log().getByRole('row').filter({ hasText: 'Document create' });
  await row.waitFor({ timeout: LIVE_DEADLINE_MS - (Date.now() - started) });
  const appearedAfterMs = Date.now() - started;

  expect(await page.evaluate(() => window.marker)).toBe('same page');
  const cells = await row.getByRole('cell').allInnerTexts();
  expect(cells.slice(1, 8)).toEqual(['Storefront', 'Document create', 'EVENT', '1', '200', expect.stringMatching(/^\d+ ms$/), 'Succeeded']);
  firstCallId = (await row.getAttribute('data-call-id'))!;
  const [call] = (await api.op(api.adminToken, 'WebhookCalls', { projectId, first: 1 })).data.webhookCalls.edges;
  expect(firstCallId).toBe(call.node.id);
  await screenshot(page, 'activity-log');
  process.stdout.write(`console: the logged call appeared in the open log ${appearedAfterMs} ms after createDocument was sent\n`);
});

test('View details shows the request as the receiver got it: body byte for byte, headers, and every attempt of the event', async () => {
  expect(firstCallId).toBeDefined();
  await log().locator(`[data-call-id="${firstCallId}"]`).getByRole('link', { name: 'View details' }).click();
  await page.getByRole('heading', { name: 'Call details' }).waitFor();
  const received = receiver.requests[0];
  await page.getByRole('group', { name: 'Request body view' }).getByRole('button', { name: 'Raw' }).click();
  expect(await page.getByLabel('Request body (raw)').textContent()).toBe(received.body);
  await page.getByRole('group', { name: 'Request body view' }).getByRole('button', { name: 'Pretty' }).click();
  expect(await page.getByLabel('Request body (pretty-printed)').textContent()).toBe(JSON.stringify(JSON.parse(received.body), null, 2));
  const headers = page.getByRole('table', { name: 'Request headers' });
  for (const name of ['X-Source', 'webhook-id', 'webhook-signature', 'user-agent']) {
    const value = received.headers[name.toLowerCase()] as string;
    await headers.getByRole('row').filter({ hasText: name }).getByText(value, { exact: true }).waitFor();
  }
  await page.getByText('HTTP 200', { exact: true }).waitFor();
  const attempts = page.getByRole('table', { name: 'Attempts of this event' });
  await expect(attempts.getByRole('row').count()).resolves.toBe(2); // header + this one
  await screenshot(page, 'call-details');
});

test('Copy as curl puts a command on the clipboard that sends the receiver the same body and headers', async () => {
  await page.getByRole('button', { name: 'Copy as curl' }).click();
  await page.getByText('Copied', { exact: true }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const logged = (await api.op(api.adminToken, 'WebhookCall', { id: firstCallId })).data.webhookCall;
  expect(copied).toBe(logged.curl);

  const original = receiver.requests[0];
  const before = receiver.requests.length;
  await promisify(execFile)('sh', ['-c', `${copied} --silent --max-time 10`], { timeout: 15_000 });
  await receiver.waitUntil('the request sent by the copied curl command', (r) => r.length > before, 5000);
  const again: ReceivedRequest = receiver.requests[before];
  expect(again.method).toBe(original.method);
  expect(again.body).toBe(original.body);
  // Every header the webhook sent arrives with the same value (curl adds only its own Accept and Host).
  for (const { name } of logged.requestHeaders as Array<{ name: string }>) {
    expect({ name, value: again.headers[name.toLowerCase()] }).toEqual({ name, value: original.headers[name.toLowerCase()] });
  }
});

test('Replay sends the call again and adds a REPLAY row to the log', async () => {
  const before = receiver.requests.length;
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.getByText(/^Replayed: delivered/).waitFor();
  await receiver.waitUntil('the replayed request', (r) => r.length > before, 5000);
  expect(receiver.requests[before].headers['webhook-id']).toBe(receiver.requests[0].headers['webhook-id']);
  await page.getByRole('table', { name: 'Attempts of this event' }).getByRole('cell', { name: 'REPLAY', exact: true }).waitFor();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity log' }).click();
  const replayRow = log().getByRole('row').filter({ hasText: 'REPLAY' });
  await replayRow.waitFor();
  await expect(replayRow.getByRole('cell').nth(7).innerText()).resolves.toBe('Succeeded');
});

test('with 5,000 calls loaded, older pages by keyset, the table keeps only the rows in view in the page', async () => {
  const busy = await createProject(api, 'Busy');
  const hook = await api.op(api.adminToken, 'CreateWebhook', { projectId: busy, input: { name: 'Firehose', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } });
  const hookId = hook.data.createWebhook.id as string;
  const base = Date.now() - 86_400_000;
  const rows = Array.from({ length: 5000 }, (_, i) => callRow(busy, hookId, { createdAt: new Date(base - i * 1000), success: i % 7 !== 0, responseStatusCode: i % 7 === 0 ? 503 : 200, error: i % 7 === 0 ? 'receiver answered 503' : null }));
  await insertCalls(api.app.dataSource, rows);

  await page.goto(`/projects/${busy}/activity`);
  await log().getByRole('row').nth(1).waitFor();
  const loaded = page.getByRole('status').filter({ hasText: /calls? loaded/ });
  // Scrolling to the end loads the next page, until the oldest call.
  await waitUntil('every page to load', async () => {
    await page.locator('.log-body').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    return /^5000 calls loaded, the oldest reached$/.test((await loaded.innerText()).trim());
  }, 60_000);
  await expect(log().getAttribute('aria-rowcount')).resolves.toBe('5001');
  const inDom = await log().getByRole('row').count();
  expect(inDom).toBeLessThan(60);
  // At the end of the scroll (the last page grew the list after the last scroll): the oldest call, in its place.
  const oldest = rows[rows.length - 1].id!;
  await page.locator('.log-body').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await page.locator(`[data-call-id="${oldest}"]`).waitFor();
  await expect(page.locator(`[data-call-id="${oldest}"]`).getAttribute('aria-rowindex')).resolves.toBe('5001');

  // Filters go to the server: failed ones only.
  await page.getByLabel('Result').selectOption('failed');
  await log().getByRole('row').nth(1).waitFor();
  const results = await log().locator('.c-result[role="cell"]').allInnerTexts();
  expect(results.length).toBeGreaterThan(0);
  expect(new Set(results)).toEqual(new Set(['receiver answered 503']));
  // Every screen of this file ran under the Content-Security-Policy without a refusal or a script error.
  expect(pageErrors).toEqual([]);
}, 120_000);
