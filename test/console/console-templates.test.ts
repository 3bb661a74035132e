import type { Browser } from 'playwright-core';
import { ok, TestApi } from '../support/api';
import { Receiver } from '../support/receiver';
import fs from 'node:fs';
import path from 'node:path';
import { collectPageErrors, type ConsoleRig, newPage, SCREENSHOT_DIR, signIn, startConsoleRig } from './browser';

// Callbacks passed to page.waitForFunction run in the browser; this is its global there.
declare const document: any;

/** The body template editor on a webhook's page: a live preview rendered by the server, errors beside the field. */
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

test('the preview follows the template as it is typed, shows a bad placeholder beside it, and Save stores it', async () => {
  const template = '{"title": "{{ document.title }}", "status": "{{ metadata.document_status_id }}"}';
  const created = ok(
    await api.gql(api.adminToken, `mutation($p: ID!, $i: WebhookInput!) { createWebhook(projectId: $p, input: $i) { id } }`, {
      p: projectId,
      i: { name: 'Slack', url: receiver.url, triggers: ['DOCUMENT_UPDATE'], bodyTemplate: template },
    }),
    'createWebhook',
  ).createWebhook;
  const { context, page } = await newPage(browser, baseUrl);
  const errors = collectPageErrors(page);
  try {
    await signIn(page, api.adminToken, `/projects/${projectId}/webhooks/${created.id}`);
    const editor = page.getByLabel('Body template');
    const preview = page.getByLabel('Body preview');
    await editor.waitFor();
    expect(await editor.inputValue()).toBe(template);
    // The saved template, rendered for a sample event: the status stays a number.
    await page.waitForFunction(() => document.querySelector('[aria-label="Body preview"]')?.textContent?.includes('"status": 2'));
    expect(JSON.parse((await preview.textContent())!)).toEqual({ title: 'Sample document', status: 2 });

    // Typed, not saved: the server renders the draft.
    await editor.fill('{"text": "{{ project.name | upcase }} has a new {{ blueprint.name }}"}');
    await page.waitForFunction(() => document.querySelector('[aria-label="Body preview"]')?.textContent?.includes('BLOG has a new Sample blueprint'));

    await editor.fill('{"text": "{{ document.titel }}"}');
    const problem = page.locator('#wh-body-preview-error');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/^unknown placeholder "document\.titel"/);

    await page.getByLabel('Format').selectOption('TEXT');
    await editor.fill('{{ document.title }} is {{ document.status | downcase }} in {{ project.name }}');
    await page.waitForFunction(() => document.querySelector('[aria-label="Body preview"]')?.textContent === 'Sample document is published in Blog');
    await page.getByText('text/plain; charset=utf-8', { exact: true }).waitFor();
    // The Body fieldset alone: the rest of the page has its own pictures.
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.locator('#wh-body').screenshot({ path: path.join(SCREENSHOT_DIR, 'body-template.png') });

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const stored = ok(await api.gql(api.adminToken, `query($id: ID!) { webhook(id: $id) { bodyTemplate bodyFormat bodyContentType } }`, { id: created.id }), 'webhook').webhook;
    expect(stored).toEqual({ bodyTemplate: '{{ document.title }} is {{ document.status | downcase }} in {{ project.name }}', bodyFormat: 'TEXT', bodyContentType: 'text/plain; charset=utf-8' });

    // The server's refusal on save lands beside the field, which gets focus.
    await editor.fill('{{ nope }}');
    await page.getByRole('button', { name: 'Save' }).click();
    const fieldError = page.locator('#wh-body-template-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/^unknown placeholder "nope"/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('wh-body-template');
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
