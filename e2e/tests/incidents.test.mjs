// An agent works an incident from new to closed; a requester reports a problem in the portal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, startServer, launchBrowser, login, shot,
  field, button, link, heading, navTo,
} from './helpers.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  await login(page, server.base, ADMIN_EMAIL, ADMIN_PASSWORD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function status() {
  return (await page.locator('.toolbar .badge[class*="status-"]').innerText()).trim();
}

test('an agent works an incident from new to closed', async () => {
  await navTo(page, 'Incidents');
  await link(page, 'New incident').click();
  await field(page, 'Title').fill('Email is down for the sales team');
  await field(page, 'Description').fill('Outlook cannot connect since 9:00.');
  await field(page, 'Impact').selectOption('high');
  await field(page, 'Urgency').selectOption('high');
  await button(page, 'Create incident').click();
  await page.getByRole('heading', { level: 1, name: /INC-1/ }).waitFor();
  assert.match(await page.locator('.toolbar').innerText(), /P1/);
  assert.equal(await status(), 'new');

  await button(page, 'Start work').click();
  await page.waitForURL(/done=saved/);
  assert.equal(await status(), 'in progress');

  await field(page, 'Message').fill('We are looking into it.');
  await button(page, 'Send public reply').click();
  await page.getByText('We are looking into it.').waitFor();
  await field(page, 'Message').fill('Exchange queue is stuck.');
  await button(page, 'Add internal note').click();
  await page.locator('li.note', { hasText: 'Exchange queue is stuck.' }).waitFor();

  await page.locator('form', { has: button(page, 'Resolve') }).getByPlaceholder('Resolution code').fill('restarted service');
  await button(page, 'Resolve').click();
  await page.waitForURL(/done=saved/);
  assert.equal(await status(), 'resolved');
  await shot(page, 'incident-view');

  await button(page, 'Close').click();
  await page.waitForURL(/done=saved/);
  assert.equal(await status(), 'closed');
  assert.equal(await button(page, 'Send public reply').count(), 0, 'closed incidents take no more replies');

  await navTo(page, 'Incidents');
  await link(page, /All \d+/).click();
  await page.getByRole('row').filter({ hasText: 'Email is down for the sales team' }).waitFor();
  await shot(page, 'incidents-list');
});

test('an illegal form is answered in words, keeping what was typed', async () => {
  await page.goto(`${server.base}/incidents/new`);
  await page.locator('form').evaluateAll((forms) => forms.forEach((f) => { f.noValidate = true; }));
  await field(page, 'Description').fill('kept text');
  await button(page, 'Create incident').click();
  await page.getByRole('alert').filter({ hasText: 'Title is required' }).waitFor();
  assert.equal(await field(page, 'Description').inputValue(), 'kept text');
});

test('a requester reports a problem in the portal and the desk sees it', async () => {
  await navTo(page, 'Users');
  await field(page, 'Email').fill('rob@acme.test');
  await field(page, 'Role').selectOption('requester');
  await field(page, 'Initial password').fill('requester password 1');
  await button(page, 'Add user').click();
  await page.getByRole('row').filter({ hasText: 'rob@acme.test' }).waitFor();

  const context = await browser.newContext({ viewport: { width: 414, height: 896 } });
  try {
    const p = await context.newPage();
    await login(p, server.base, 'rob@acme.test', 'requester password 1');
    await heading(p, 'How can we help?').waitFor();
    await field(p, 'What is wrong?').fill('Printer on floor 3 is jammed');
    await field(p, 'Details').fill('Paper stuck in tray 2.');
    await button(p, 'Send').click();
    await p.getByText('Received: we will look at it soon').waitFor();
    await field(p, 'Your reply').fill('It is urgent, we print invoices there.');
    await button(p, 'Send reply').click();
    await p.getByText('It is urgent, we print invoices there.').waitFor();
    await shot(p, 'portal-record');
    await p.goto(`${server.base}/portal`);
    await p.getByRole('row').filter({ hasText: 'Printer on floor 3 is jammed' }).waitFor();
    await shot(p, 'portal');
    const denied = await p.goto(`${server.base}/incidents`);
    assert.equal(denied.status(), 403, 'requesters do not see the agent console');
  } finally {
    await context.close();
  }

  await navTo(page, 'Incidents');
  await link(page, /Unassigned/).click();
  await page.getByRole('row').filter({ hasText: 'Printer on floor 3 is jammed' }).getByRole('link').click();
  await page.getByText('It is urgent, we print invoices there.').waitFor();
});

test('a problem manager turns incidents into a known error the desk can find', async () => {
  await navTo(page, 'Problems');
  await link(page, 'New problem').click();
  await field(page, 'Title').fill('Mail server runs out of memory');
  await field(page, 'Incidents').fill('INC-1');
  await button(page, 'Create problem').click();
  await page.getByRole('heading', { level: 1, name: /PRB-1/ }).waitFor();
  await page.getByRole('link', { name: 'INC-1' }).waitFor();

  await button(page, 'Investigate').click();
  await page.waitForURL(/done=saved/);
  await button(page, 'Record as known error').click();
  await page.getByRole('alert').filter({ hasText: 'Record the root cause first' }).waitFor();
  await field(page, 'Root cause').fill('The sync agent leaks memory');
  await field(page, 'Workaround').fill('Restart the sync agent nightly');
  await button(page, 'Record as known error').click();
  await page.waitForURL(/done=saved/);
  assert.match(await page.locator('aside').innerText(), /KE-1/);
  await shot(page, 'problem-view');

  await page.goto(`${server.base}/incidents/INC-2`);
  await field(page, 'Search known errors').fill('memory leak');
  await button(page, 'Look up').click();
  await page.getByText('Workaround: Restart the sync agent nightly').waitFor();
  await field(page, 'Other record').fill('PRB-1');
  await field(page, 'Link type').selectOption('caused_by');
  await button(page, 'Add link').click();
  await page.waitForURL(/done=saved/);
  await page.locator('aside').getByRole('link', { name: 'PRB-1' }).waitFor();
});

test('a requester orders from the catalogue; approval and tasks fulfil it', async () => {
  await navTo(page, 'Requests');
  await link(page, 'Catalogue').click();
  await field(page, 'Name').fill('New laptop');
  await field(page, 'Category').fill('Hardware');
  await field(page, 'Form fields').fill('model | Model | select | required | 13-inch, 15-inch\nneeded_by | Needed by | date');
  await field(page, 'Fulfilment tasks').fill('Order the laptop\nSet it up');
  await page.getByLabel(/Admin <admin@acme.test>/).check();
  await button(page, 'Create item').click();
  await page.getByRole('row').filter({ hasText: 'New laptop' }).waitFor();

  const context = await browser.newContext({ viewport: { width: 414, height: 896 } });
  try {
    const p = await context.newPage();
    await login(p, server.base, 'rob@acme.test', 'requester password 1');
    await link(p, 'New laptop').click();
    await p.locator('form').evaluateAll((forms) => forms.forEach((f) => { f.noValidate = true; }));
    await button(p, 'Submit request').click();
    await p.getByRole('alert').filter({ hasText: 'Model is required' }).waitFor();
    await field(p, 'Model').selectOption('13-inch');
    await button(p, 'Submit request').click();
    await p.getByRole('heading', { level: 1, name: /REQ-1/ }).waitFor();
    assert.match(await p.locator('.toolbar').innerText(), /waiting for approval/);
    await shot(p, 'portal-request');
  } finally {
    await context.close();
  }

  await navTo(page, 'Requests');
  await link(page, 'Waiting for my approval').click();
  await page.getByRole('link', { name: 'REQ-1' }).click();
  await button(page, 'Approve').click();
  await page.getByText('being fulfilled').first().waitFor();
  for (let i = 0; i < 2; i += 1) {
    await button(page, 'Mark done').first().click();
    await page.waitForLoadState();
  }
  await page.locator('.toolbar').getByText('fulfilled').waitFor();
  await shot(page, 'request-view');
});

test('an agent changes several incidents at once', async () => {
  await navTo(page, 'Incidents');
  await link(page, /All open/).click();
  await page.getByRole('checkbox', { name: 'Select INC-2' }).check();
  await field(page, 'Assign to').selectOption({ label: 'Admin' });
  await field(page, 'Status').selectOption('in_progress');
  await button(page, 'Apply to selected').click();
  await page.getByRole('status').filter({ hasText: '1 incident(s) changed.' }).waitFor();
  await page.goto(`${server.base}/incidents/INC-2`);
  assert.match(await page.locator('aside').innerText(), /Assignee\s+Admin/);
});

test('the search box finds records by key and by words', async () => {
  const box = page.locator('header').getByRole('searchbox', { name: 'Search everything' });
  await box.fill('inc-1');
  await box.press('Enter');
  await page.getByRole('heading', { level: 1, name: /INC-1/ }).waitFor();
  await box.fill('printer');
  await box.press('Enter');
  await heading(page, 'Search').waitFor();
  await page.getByRole('row').filter({ hasText: 'Printer on floor 3 is jammed' }).waitFor();
  await shot(page, 'search');
});

test('a major incident is declared, communicated, reviewed and only then closed', async () => {
  await navTo(page, 'Incidents');
  await link(page, 'New incident').click();
  await field(page, 'Title').fill('Payroll system is down');
  await button(page, 'Create incident').click();
  await page.getByRole('heading', { level: 1, name: /Payroll system is down/ }).waitFor();

  await button(page, 'Declare major incident').click();
  await page.waitForURL(/done=saved/);
  assert.equal((await page.locator('.toolbar .badge.major').innerText()).trim(), 'MAJOR');

  await field(page, 'Audience').selectOption('customers');
  await field(page, 'Update').fill('Payroll is down; next update at 10:00.');
  await button(page, 'Post update').click();
  await page.locator('li.update', { hasText: 'Payroll is down; next update at 10:00.' }).waitFor();

  await page.locator('form', { has: button(page, 'Resolve') }).getByPlaceholder('Resolution code').fill('database restarted');
  await button(page, 'Resolve').click();
  await page.waitForURL(/done=saved/);
  await button(page, 'Close').click();
  await page.getByRole('alert').filter({ hasText: 'completed post-incident review' }).waitFor();

  await field(page, 'Summary').fill('Payroll was down for 40 minutes.');
  await field(page, 'Root cause').fill('The database ran out of connections.');
  await field(page, 'What went well').fill('Customers heard from us within 5 minutes.');
  await field(page, 'What to improve').fill('Alert on connection pool saturation.');
  await field(page, 'Actions').fill('Add the alert; raise the pool size.');
  await field(page, 'Completed').check();
  await button(page, 'Save review').click();
  await page.waitForURL(/done=saved/);
  await shot(page, 'major-incident');

  await button(page, 'Close').click();
  await page.waitForURL(/done=saved/);
  assert.equal(await status(), 'closed');
  await page.getByText('The database ran out of connections.').waitFor();
});
