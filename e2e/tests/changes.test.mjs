// Change management in a real browser: the admin raises a normal change through the form
// (with a CI and the risk questionnaire), moves it to authorisation; two CAB members approve
// it on their approval page (the policy asks 2 of 3); it is scheduled and shows on the
// calendar on its day. Tests run in order and share one server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, TENANT_SLUG, startServer, launchBrowser, login, runCli, shot, addPeople,
  field, button, link, heading, mainNav,
} from './helpers.mjs';

const TITLE = 'Upgrade the payroll database';
const MEMBERS = [
  { email: 'mo@acme.test', name: 'Mo' },
  { email: 'max@acme.test', name: 'Max' },
];

let server;
let browser;
let page;

async function api(method, path, token, body) {
  const res = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A fresh browser context signed in as `email`. */
async function signedIn(email) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  const p = await context.newPage();
  await login(p, server.base, email, ADMIN_PASSWORD);
  return p;
}

before(async () => {
  server = await startServer();
  await addPeople(server, MEMBERS.map((m) => [m.email, 'manager', m.name]));
  const created = await runCli(
    ['token', 'create', '--tenant', TENANT_SLUG, '--email', ADMIN_EMAIL, '--name', 'e2e'],
    { env: server.env },
  );
  const token = created.stdout.trim().split('\n').pop().trim();
  // A CI to change, and a CAB of three (the admin and both managers) that needs two approvals.
  await api('POST', '/ci-classes', token, { name: 'Server' });
  await api('POST', '/cis', token, { class: 'Server', name: 'db01' });
  const users = await api('GET', '/users', token);
  const ids = (users.items ?? users).map((u) => u.id);
  assert.equal(ids.length, 3, 'the admin and two managers');
  const policy = await api('GET', '/change-policy', token);
  policy.approvals.rules = [
    { change_type: 'normal', from_risk: 'low', stage: { kind: 'cab', members: ids, quorum: 2 } },
    { change_type: 'emergency', from_risk: 'low', stage: { kind: 'change_manager' } },
  ];
  await api('PUT', '/change-policy', token, policy);

  browser = await launchBrowser();
  page = await signedIn(ADMIN_EMAIL);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function main(p) {
  return p.locator('main');
}

test('the admin raises a normal change with a CI and the risk questionnaire', async () => {
  await link(mainNav(page), 'Changes').click();
  await heading(page, 'Changes').waitFor();
  await link(page, 'Raise change').click();
  await heading(page, 'Raise a change').waitFor();
  await field(page, 'Title').fill(TITLE);
  await field(page, 'Type').selectOption('normal');
  await field(page, 'Reason').fill('PostgreSQL 12 is out of support');
  await field(page, 'Implementation plan').fill('pg_upgrade in the maintenance window');
  await field(page, 'Back-out plan').fill('Restore the snapshot taken before');
  await field(page, 'Start').fill('2031-03-01T22:00');
  await field(page, 'End').fill('2031-03-02T02:00');
  await page.locator('input[name="ci"]').first().fill('db01');
  const answer = (question, label) =>
    page.getByRole('group', { name: question }).getByLabel(label, { exact: true }).check();
  await answer('How much could break if this change goes wrong?', 'Several services');
  await answer('Was the change tested in a staging environment?', 'No');
  await answer('Has the back-out plan been tested?', 'Yes');
  await answer('Will customers notice during the change?', 'No');
  await answer('Is the change done outside business hours?', 'Yes');
  await shot(page, 'changes-form');
  await button(page, 'Raise change').click();
  await heading(page, `CHG-1 ${TITLE}`).waitFor();
  const text = await main(page).innerText();
  assert.match(text, /risk: high/);
  assert.match(text, /db01/);
  assert.match(text, /Several services/);
});

test('it moves through assessment to authorisation', async () => {
  await button(page, 'Submit for assessment').click();
  await page.getByText('Status changed.').waitFor();
  await button(page, 'Submit for authorisation').click();
  await page.getByText('Status changed.').waitFor();
  const approvals = page.locator('#approvals');
  assert.match(await approvals.innerText(), /0 of 3 approved, needs 2/);
  assert.match(await main(page).innerText(), /awaiting authorisation/);
  await shot(page, 'changes-view-authorisation');
});

test('two CAB members approve it on their approval page', async () => {
  for (const [i, m] of MEMBERS.entries()) {
    const p = await signedIn(m.email);
    await link(mainNav(p), 'Changes').click();
    await link(p, 'Awaiting my approval').click();
    await heading(p, 'Changes awaiting my approval').waitFor();
    const row = p.locator('tr', { hasText: 'CHG-1' });
    assert.match(await row.innerText(), new RegExp(`${i} of 3 approved, needs 2`));
    if (i === 0) await shot(p, 'changes-approvals');
    await row.getByRole('button', { name: /^Approve CHG-1/ }).click();
    await p.getByText('Your approval is recorded.').waitFor();
    assert.doesNotMatch(await main(p).innerText(), new RegExp(TITLE));
    await p.context().close();
  }
});

test('approved, it is scheduled and shows on the calendar on its day', async () => {
  await page.reload();
  assert.match(await page.locator('#approvals').innerText(), /Approved/);
  await button(page, 'Schedule').click();
  await page.getByText('Status changed.').waitFor();
  assert.match(await main(page).innerText(), /scheduled/);
  await page.goto(`${server.base}/changes/calendar?view=month&date=2031-03-01`);
  await heading(page, 'Change calendar: March 2031').waitFor();
  const day = page.locator('td[data-date="2031-03-01"]');
  assert.match(await day.innerText(), /CHG-1/);
  assert.match(await day.innerText(), /22:00–02:00/);
  await shot(page, 'changes-calendar');
  await link(page, 'Week view').click();
  await heading(page, 'Change calendar: Week of 24 February 2031').waitFor();
  assert.match(await page.locator('td[data-date="2031-03-01"]').innerText(), /CHG-1/);
  await page.goto(`${server.base}/changes/dashboard`);
  await heading(page, 'Change dashboard').waitFor();
  await page.locator('svg.change-success').waitFor();
  await shot(page, 'changes-dashboard');
});
