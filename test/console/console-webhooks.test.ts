import type { Browser } from 'playwright-core';
import { callRow, insertCalls } from '../support/fixtures';
import { codeOf, createUserWithToken, TestApi } from '../support/api';
import { Receiver } from '../support/receiver';
import { collectPageErrors, type ConsoleRig, newPage, screenshot, signIn, startConsoleRig } from './browser';

// Callbacks passed to page.evaluate run in the browser; these are its globals there.
declare const window: any, document: any, navigator: any, sessionStorage: any;

/** The console's webhook screens in Chromium, against the real server and database. */
let api: TestApi;
let receiver: Receiver;
let browser: Browser;
let baseUrl: string;
let projectId: string;

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig({ project: 'Blog' });
  ({ api, receiver, browser, baseUrl, projectId } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

test('sign in: the API token field and Sign in lead to the projects by name, with Webhooks and Activity log in the navigation', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await page.goto('/');
    await screenshot(page, 'sign-in');
    await page.getByLabel('API token').fill('cms_not-a-real-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is unknown or revoked.').waitFor();

    await page.getByLabel('API token').fill(api.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([api.adminToken]);
    await screenshot(page, 'projects');
    await page.getByRole('link', { name: 'Blog' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Webhooks' }).waitFor();
    await nav.getByRole('link', { name: 'Activity log' }).waitFor();
    expect(page.url()).toBe(`${baseUrl}/projects/${projectId}/webhooks`);
    // A reload of a client route keeps the session (sessionStorage) and the screen (the server's HTML fallback).
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    // The invalid token's 200-with-UNAUTHENTICATED is not a page error; nothing else may be (a CSP violation would be).
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('create a webhook through the form: it is saved as entered and listed in the Webhooks table', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks`);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Create webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Search index');
    await page.getByLabel('Description').fill('Reindex documents when they change');
    await page.getByLabel('Method').selectOption('PUT');
    await page.getByLabel('URL', { exact: true }).fill(receiver.url);
    await page.getByLabel('Document create', { exact: true }).check();
    await page.getByLabel('Document update', { exact: true }).check();
    // Each action says when its event is sent, in the documentation's words.
    await page.getByText('Event sent when: A document\u2019s status changes: publish, unpublish, archive').waitFor();
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header name').fill('X-Api-Key');
    await page.getByLabel('Header value').fill('s3cr3t-key-value-1234');
    await page.getByLabel('Secret', { exact: true }).check();
    await page.getByLabel('Deliver in order (FIFO)').check();
    await page.getByText('a failing call holds back the ones after it').waitFor();
    await screenshot(page, 'webhook-form');
    await page.getByRole('button', { name: 'Save' }).click();

    await page.getByRole('heading', { name: 'Search index' }).waitFor();
    await page.getByText('Webhook created.').waitFor();
    const listed = await api.gql(api.adminToken, `query($p: ID!) { webhooks(projectId: $p) { id name description method url triggers headers { name value secret } blueprintIds enabled fifo } }`, { p: projectId });
    const created = listed.data.webhooks.find((w: { name: string }) => w.name === 'Search index');
    expect(created).toMatchObject({
      description: 'Reindex documents when they change',
      method: 'PUT',
      url: receiver.url,
      triggers: ['DOCUMENT_CREATE', 'DOCUMENT_UPDATE'],
      headers: [{ name: 'X-Api-Key', value: '••••1234', secret: true }],
      blueprintIds: null,
      enabled: true,
      fifo: true,
    });
    expect(page.url()).toBe(`${baseUrl}/projects/${projectId}/webhooks/${created.id}?created=1`);
    await page.getByText('In order (FIFO)', { exact: true }).waitFor();
    await expect(page.getByLabel('Deliver in order (FIFO)').isChecked()).resolves.toBe(true);
    // The saved secret is shown masked, and kept when the form is saved again without replacing it.
    await expect(page.getByLabel('Header value').inputValue()).resolves.toBe('••••1234');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    const table = page.getByRole('table', { name: 'Webhooks' });
    const row = table.getByRole('row').filter({ hasText: 'Search index' });
    await row.waitFor();
    await expect(row.innerText()).resolves.toMatch(/PUT[\s\S]*Document create, Document update[\s\S]*Enabled\s+FIFO[\s\S]*0 succeeded\s+0 failed[\s\S]*No calls yet/);
    // A click on the row opens the webhook.
    await row.getByRole('cell').first().click();
    await page.getByRole('heading', { name: 'Search index' }).waitFor();
  } finally {
    await context.close();
  }
});

test('a bad URL shows the server\u2019s message beside the URL field, which gets the focus', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks/new`);
    await page.getByLabel('Name', { exact: true }).fill('Broken');
    await page.getByLabel('URL', { exact: true }).fill('not a url');
    await page.getByLabel('Document delete', { exact: true }).check();
    await page.getByRole('button', { name: 'Save' }).click();

    const refusal = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'Broken', url: 'not a url', triggers: ['DOCUMENT_DELETE'] } });
    expect(refusal.errors![0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.url' });
    const rule = refusal.errors![0].message.replace(/^input\.url: /, '');
    const urlField = page.locator('.field').filter({ has: page.getByLabel('URL', { exact: true }) });
    await urlField.getByText(rule, { exact: true }).waitFor();
    const url = page.getByLabel('URL', { exact: true });
    await expect(url.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(url.getAttribute('aria-describedby')).resolves.toContain('wh-url-error');
    await expect(url.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    // Nothing beside the other fields, and nothing was created.
    await expect(page.locator('.field-error').count()).resolves.toBe(1);
    await screenshot(page, 'form-error');
    const listed = await api.gql(api.adminToken, `query($p: ID!) { webhooks(projectId: $p) { name } }`, { p: projectId });
    expect(listed.data.webhooks.map((w: { name: string }) => w.name)).not.toContain('Broken');
  } finally {
    await context.close();
  }
});

test('a VIEWER sees no "Create webhook" and is told why; refusals from the server are shown, never a blank page', async () => {
  const viewer = await createUserWithToken(api, 'viewer@console.test', projectId, 'VIEWER');
  expect(codeOf(await api.op(viewer.token, 'Webhooks', { projectId }))).toBe('FORBIDDEN');
  const { context, page } = await newPage(browser, baseUrl);
  try {
    await signIn(page, viewer.token, `/projects/${projectId}/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('Your role in this project is VIEWER').waitFor();
    await expect(page.getByRole('button', { name: 'Create webhook' }).count()).resolves.toBe(0);
    await expect(page.getByRole('table', { name: 'Webhooks' }).count()).resolves.toBe(0);
    await screenshot(page, 'viewer');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity log' }).click();
    await page.getByText('The activity log is for ADMIN and OWNER members only').waitFor();
    await expect(page.getByRole('table', { name: 'Activity log' }).count()).resolves.toBe(0);

    // A project the viewer is not in, and a webhook that does not exist (as the admin): NOT_FOUND, in words.
    await page.goto('/projects/00000000-0000-4000-8000-000000000000/webhooks');
    await page.getByText('Project not found. It does not exist, or you are not a member of it.').waitFor();
  } finally {
    await context.close();
  }
  const admin = await newPage(browser, baseUrl);
  try {
    await signIn(admin.page, api.adminToken, `/projects/${projectId}/webhooks/00000000-0000-4000-8000-000000000000`);
    const alert = admin.page.getByRole('alert');
    await alert.getByText('Webhook not found').waitFor();
    await expect(alert.innerText()).resolves.toContain('NOT_FOUND');
  } finally {
    await admin.context.close();
  }
});

test('health charts render for a webhook with calls: per hour over 24 hours, per day over 30 days, and a sparkline in the table', async () => {
  const hookId = await (async () => {
    const created = await api.op(api.adminToken, 'CreateWebhook', { projectId, input: { name: 'Charted', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } });
    return created.data.createWebhook.id as string;
  })();
  for (let i = 0; i < 3; i++) expect(codeOf(await api.op(api.adminToken, 'TestWebhook', { id: hookId }))).toBe('OK');
  // Older calls, days back, through the same insert path the log uses.
  await insertCalls(api.app.dataSource, [1, 2, 5, 9].map((days) => callRow(projectId, hookId, { createdAt: new Date(Date.now() - days * 86_400_000), success: days !== 5, durationMs: 40 * days })));

  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks/${hookId}`);
    const hours = page.getByRole('region', { name: 'Last 24 hours' });
    await hours.getByText('3 succeeded').waitFor();
    const days = page.getByRole('region', { name: 'Last 30 days' });
    await days.getByText('6 succeeded').waitFor();
    await days.getByText('1 failed').waitFor();
    // uPlot drew bars in the "succeeded" green on each calls chart (not just an empty canvas).
    for (const name of ['Calls per hour, last 24 hours: succeeded and failed', 'Calls per day, last 30 days: succeeded and failed']) {
      const canvas = page.getByRole('img', { name }).locator('canvas');
      await expect(canvas.evaluate(greenPixels)).resolves.toBeGreaterThan(20);
    }
    await page.getByRole('img', { name: 'Duration per day, last 30 days: p50 and p95' }).locator('canvas').waitFor();
    await screenshot(page, 'webhook');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    const sparkline = page.getByRole('img', { name: 'Charted: calls per day over 30 days, 7 in all' }).locator('canvas');
    await expect(sparkline.evaluate(greenPixels)).resolves.toBeGreaterThan(5);
    await page.getByRole('table', { name: 'Webhooks' }).getByRole('row').filter({ hasText: 'Charted' }).getByText(/^(just now|\d+ min ago) 200 OK$/).waitFor();
    await screenshot(page, 'webhooks');
    // Charts and sparklines drew under the Content-Security-Policy: a refused style or script would be logged here.
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

/** Pixels of a canvas in the "succeeded" colour (#1a7f37), give or take antialiasing. Runs in the page. */
function greenPixels(canvas: any): number {
  const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  let count = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - 0x1a) < 40 && Math.abs(data[i + 1] - 0x7f) < 40 && Math.abs(data[i + 2] - 0x37) < 40) count++;
  return count;
}

test('keyboard alone: sign in, open a project, create a webhook, saved as typed', async () => {
  const { context, page } = await newPage(browser, baseUrl);
  /** Presses Tab until the focused element has this accessible name (so it is reachable), at most 80 times. */
  const tabTo = async (name: string | RegExp) => {
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el) return '';
        const labelled = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
        return (el.getAttribute('aria-label') ?? labelled ?? el.textContent ?? '').trim();
      });
      if (typeof name === 'string' ? focused === name : name.test(focused)) return;
    }
    throw new Error(`Tab never reached ${name}`);
  };
  try {
    await page.goto('/');
    // The token field takes the focus on arrival, once the page has rendered it.
    await page.waitForFunction(() => document.activeElement?.id === 'token');
    await page.keyboard.type(api.adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await tabTo('Blog');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await tabTo('Create webhook');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Create webhook' }).waitFor();
    await tabTo('Name');
    await page.keyboard.type('Typed in');
    await tabTo('URL');
    await page.keyboard.type(receiver.url);
    await tabTo('Blueprint delete');
    await page.keyboard.press('Space');
    await tabTo('Save');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Typed in' }).waitFor();
    const listed = await api.gql(api.adminToken, `query($p: ID!) { webhooks(projectId: $p) { name triggers } }`, { p: projectId });
    expect(listed.data.webhooks).toContainEqual({ name: 'Typed in', triggers: ['BLUEPRINT_DELETE'] });
  } finally {
    await context.close();
  }
});
