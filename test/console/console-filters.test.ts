import type { Browser } from 'playwright-core';
import { createUserWithToken, ok, TestApi } from '../support/api';
import { collectPageErrors, type ConsoleRig, newPage, screenshot, signIn, startConsoleRig } from './browser';

// Callbacks passed to page.evaluate run in the browser; this is its global there.
declare const document: any;

/** The webhook form's content filters in Chromium, against the real server: saved, and shown again after a reload. */
let api: TestApi;
let browser: Browser;
let baseUrl: string;
let projectId: string;
let editor: { id: string; token: string };

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig({ project: 'Site' });
  ({ api, browser, baseUrl, projectId } = rig);
  ok(await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Page', fields: [{ name: 'slug', type: 'text' }] } }), 'blueprint');
  editor = await createUserWithToken(api, 'writer@example.com', projectId, 'EDITOR');
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

test('filters: statuses, changed fields and an excluded member are saved, shown after a reload, and a bad field name is refused beside its input', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks/new`);
    await page.getByRole('heading', { name: 'Create webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Deploy');
    await page.getByLabel('URL', { exact: true }).fill('https://example.com/deploy');
    await page.getByLabel('Document update', { exact: true }).check();
    await page.getByLabel('Document field update', { exact: true }).check();
    await page.getByLabel('Published', { exact: true }).check();
    await page.getByLabel('Changed fields').fill('slug, sulg');
    await page.getByLabel('Whose changes').selectOption('EXCLUDE');
    await page.getByLabel('writer@example.com').check();
    await page.getByRole('button', { name: 'Save' }).click();

    // The server's rule appears beside the input it names, which gets focus.
    const fieldError = page.locator('#wh-changed-fields-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toContain('must be title or a field of');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('wh-changed-fields');

    await page.getByLabel('Changed fields').fill('slug, title');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook created.').waitFor();
    await screenshot(page, 'webhook-filters');

    const [webhook] = ok(await api.gql(api.adminToken, `query($p: ID!) { webhooks(projectId: $p) { id documentStatuses changedFields actorFilter { mode userIds tokenIds } } }`, { p: projectId }), 'webhooks').webhooks;
    expect(webhook).toMatchObject({ documentStatuses: ['PUBLISHED'], changedFields: ['slug', 'title'], actorFilter: { mode: 'EXCLUDE', userIds: [editor.id], tokenIds: [] } });

    await page.reload();
    await page.getByRole('heading', { name: 'Deploy' }).waitFor();
    expect(await page.getByLabel('Published', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('Draft', { exact: true }).isChecked()).toBe(false);
    expect(await page.getByLabel('Changed fields').inputValue()).toBe('slug, title');
    expect(await page.getByLabel('Whose changes').inputValue()).toBe('EXCLUDE');
    await page.getByLabel('writer@example.com').waitFor();
    expect(await page.getByLabel('writer@example.com').isChecked()).toBe(true);

    // Back to "Anyone" and no status: both filters removed (null), not saved as empty lists.
    await page.getByLabel('Whose changes').selectOption('ANY');
    await page.getByLabel('Published', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const after = ok(await api.gql(api.adminToken, `query($id: ID!) { webhook(id: $id) { documentStatuses changedFields actorFilter { mode } } }`, { id: webhook.id }), 'webhook').webhook;
    expect(after).toEqual({ documentStatuses: null, changedFields: ['slug', 'title'], actorFilter: null });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
