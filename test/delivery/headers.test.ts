import { ok, startTestApi, TestApi } from '../support/api';
import { ReceivedRequest, Receiver, startReceiver } from '../support/receiver';
import { waitUntil } from '../support/wait';

/**
 * What the log says was sent is what a real receiver got, header for header, even for names
 * that are object keys in JavaScript; and a receiver that echoes its request cannot make a
 * secret header value readable through the log (test send, replay, or event delivery).
 */

const SECRET = 'sk_live_9f8e7d6c5b4a3gat'; // 24 characters: masked as ••••3gat
const PIN = 'pin-1234'; // short: masked entirely
const OWN_HEADERS = [
  { name: 'constructor', value: 'c-value', secret: false },
  { name: '__proto__', value: 'p-value', secret: false },
  { name: 'toString', value: 't-value', secret: false },
  { name: 'X-Api-Key', value: SECRET, secret: true },
  { name: 'X-Pin', value: PIN, secret: true },
];
/** What Node and got add for the transport; everything else on the wire must be in the log. */
const TRANSPORT = new Set(['host', 'content-length', 'accept-encoding', 'connection']);

let api: TestApi;
let echo: Receiver;
let projectId: string;
let blueprintId: string;
let webhookId: string;

/** Answers with everything it got: headers as a JSON body, the secret in a header, and a long tail. */
function echoReply(request: ReceivedRequest) {
  const body = JSON.stringify({ rawHeaders: request.rawHeaders, headers: request.headers });
  return { status: 200, headers: { 'content-type': 'application/json', 'x-echo-key': request.headers['x-api-key'] ?? '', [PIN]: 'as a name' }, body };
}

const CALL_FIELDS = 'id requestHeaders { name value } responseBody responseHeaders { name value } error curl';

function pairs(raw: string[]): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) result.push([raw[i], raw[i + 1]]);
  return result;
}

const masked = (value: string) => (value === SECRET ? '••••3gat' : value === PIN ? '••••••••' : value);

beforeAll(async () => {
  echo = await startReceiver(echoReply);
  api = await startTestApi(); // with the delivery worker: event deliveries are recorded by it
  const admin = api.adminToken;
  projectId = ok(await api.op(admin, 'CreateProject', { input: { name: 'Headers' } }), 'CreateProject').createProject.id;
  blueprintId = ok(await api.op(admin, 'CreateBlueprint', { projectId, input: { name: 'Post' } }), 'CreateBlueprint').createBlueprint.id;
  const input = { name: 'echo', url: echo.url, triggers: ['DOCUMENT_CREATE'], headers: OWN_HEADERS };
  webhookId = ok(await api.op(admin, 'CreateWebhook', { projectId, input }), 'CreateWebhook').createWebhook.id;
});

afterAll(async () => {
  await api?.close();
  await echo?.close();
});

/** The row as stored, read straight from the database. */
async function storedRow(callId: string): Promise<string> {
  const [row] = await api.app.dataSource.query('SELECT to_jsonb(c)::text AS row FROM webhook_call c WHERE id = $1', [callId]);
  return row.row as string;
}

/** The log of one call equals what the receiver got (secret values masked), and leaks no secret anywhere. */
async function expectTrueAndMasked(call: { id: string; requestHeaders: Array<{ name: string; value: string }>; responseBody: string; responseHeaders: Array<{ name: string; value: string }>; curl?: string }, request: ReceivedRequest) {
  const wire = pairs(request.rawHeaders).filter(([name]) => !TRANSPORT.has(name.toLowerCase()));
  expect(call.requestHeaders.map((h) => [h.name, h.value])).toEqual(wire.map(([name, value]) => [name, masked(value)]));
  expect(wire.slice(0, OWN_HEADERS.length)).toEqual(OWN_HEADERS.map((h) => [h.name, h.value]));

  const echoed = JSON.parse(call.responseBody) as { rawHeaders: string[] };
  expect(pairs(echoed.rawHeaders).filter(([name]) => name === 'X-Api-Key' || name === 'X-Pin')).toEqual([
    ['X-Api-Key', '••••3gat'],
    ['X-Pin', '••••••••'],
  ]);
  expect(call.responseHeaders).toEqual(expect.arrayContaining([{ name: 'x-echo-key', value: '••••3gat' }, { name: '••••••••', value: 'as a name' }]));
  const everything = JSON.stringify(call) + (await storedRow(call.id));
  for (const secret of [SECRET, SECRET.slice(0, 12), PIN]) expect(everything).not.toContain(secret);
}

test('a test send: every header arrives exactly as logged, __proto__ and constructor included; the echo is masked', async () => {
  const before = echo.requests.length;
  const call = ok(await api.gql(api.adminToken, `mutation($id: ID!) { testWebhook(id: $id) { ${CALL_FIELDS} } }`, { id: webhookId }), 'testWebhook').testWebhook;
  const request = echo.requests[before];
  expect(echo.requests).toHaveLength(before + 1);
  await expectTrueAndMasked(call, request);
  expect(call.curl).toContain("--header 'constructor: c-value'");
  expect(call.curl).toContain("--header '__proto__: p-value'");
});

test('a replay: the same, through the same path', async () => {
  const first = ok(await api.gql(api.adminToken, `mutation($id: ID!) { testWebhook(id: $id) { id } }`, { id: webhookId }), 'testWebhook').testWebhook;
  const before = echo.requests.length;
  const call = ok(await api.gql(api.adminToken, `mutation($id: ID!) { replayWebhookCall(id: $id) { ${CALL_FIELDS} } }`, { id: first.id }), 'replay')
    .replayWebhookCall;
  await expectTrueAndMasked(call, echo.requests[before]);
});

test('an event delivered by the worker: the same', async () => {
  const before = echo.requests.length;
  ok(await api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: 'T' } }), 'CreateDocument');
  await echo.waitForCount(before + 1);
  let call: any;
  await waitUntil('the event call to be logged', async () => {
    const page = ok(
      await api.gql(api.adminToken, `query($p: ID!) { webhookCalls(projectId: $p, filter: {kind: EVENT}) { edges { node { ${CALL_FIELDS} } } } }`, { p: projectId }),
      'webhookCalls',
    );
    call = page.webhookCalls.edges[0]?.node;
    return call !== undefined;
  });
  await expectTrueAndMasked(call, echo.requests[before]);
});

test('a redirect whose Location echoes the secret: the error is masked too', async () => {
  const redirect = await startReceiver((request) => ({ status: 302, headers: { location: `https://elsewhere.test/?key=${request.headers['x-api-key']}` } }));
  try {
    const input = { url: redirect.url, headers: [{ name: 'X-Api-Key', value: SECRET, secret: true }] };
    ok(await api.op(api.adminToken, 'UpdateWebhook', { id: webhookId, input }), 'UpdateWebhook');
    const call = ok(await api.gql(api.adminToken, `mutation($id: ID!) { testWebhook(id: $id) { id error } }`, { id: webhookId }), 'testWebhook').testWebhook;
    expect(call.error).toBe('redirect not followed: 302 to https://elsewhere.test/?key=••••3gat');
    expect(await storedRow(call.id)).not.toContain(SECRET);
  } finally {
    await redirect.close();
  }
});
