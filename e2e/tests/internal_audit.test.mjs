// Internal audit (ISO/IEC 20000-1 9.2) in a real browser: a manager sets up the audit
// programme for the certification cycle, plans an audit of incident management with the
// process owner as auditee, starts it, marks a checklist row nonconforming, records a minor
// nonconformity finding, follows its link to the nonconformity it raised, and plans a
// corrective action there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD, startServer, launchBrowser, login, shot, isoDay, addPeople,
  field, button, link, heading, navTo, pathOf,
} from './helpers.mjs';

const MANAGER = 'quality@acme.test';
const OWNER = 'owner@acme.test';

let server;
let browser;

before(async () => {
  server = await startServer();
  await addPeople(server, [
    [MANAGER, 'manager', 'Quinn Quality'],
    [OWNER, 'agent', 'Olga Owner'],
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a manager runs an internal audit and follows a finding to its nonconformity', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await login(page, server.base, MANAGER, ADMIN_PASSWORD);

  await navTo(page, 'Management system');
  await link(page, 'Internal audit').click();
  await heading(page, 'Internal audit').waitFor();
  await link(page, 'New programme').click();
  await heading(page, 'New audit programme').waitFor();
  await field(page, 'Name').fill('Certification cycle 2');
  await field(page, 'Cycle start').fill(isoDay(-30));
  await button(page, 'Create programme').click();
  await heading(page, 'Certification cycle 2').waitFor();
  assert.ok(await page.locator('.cal-month.today').isVisible(), 'today is marked');
  assert.ok(await page.getByRole('heading', { name: 'Clauses no audit covers yet' }).isVisible());
  await shot(page, 'audit-programme-empty');

  await link(page, 'Plan an audit').click();
  await heading(page, 'Plan an audit in Certification cycle 2').waitFor();
  await field(page, 'Title').fill('Incident management');
  await field(page, 'Planned start').fill(isoDay(-1));
  await field(page, 'Planned end').fill(isoDay(1));
  await field(page, 'Lead auditor').selectOption({ label: 'Quinn Quality' });
  await field(page, 'Auditees (owners of the processes audited)').selectOption({ label: 'Olga Owner' });
  await page.getByLabel('8.6.1 Incident management').check();
  await button(page, 'Plan audit').click();
  await page.getByRole('heading', { level: 1, name: /Incident management$/ }).waitFor();
  const auditPath = pathOf(page);
  assert.match(auditPath, /^\/audits\/\d+$/);

  await button(page, 'Start audit').click();
  await page.locator('.props .badge', { hasText: 'In progress' }).waitFor();
  const row = page.locator('tr#row-8\\.6\\.1-a');
  await row.getByLabel('Result for 8.6.1-a').selectOption('nonconforming');
  await row.getByLabel('Notes').fill('Three incidents closed without a category');
  await row.getByLabel('Evidence seen').fill('INC-4, INC-7, INC-9');
  await row.getByRole('button', { name: 'Save' }).click();
  await page.locator('tr#row-8\\.6\\.1-a select').waitFor();
  assert.equal(await page.locator('tr#row-8\\.6\\.1-a select').inputValue(), 'nonconforming');
  // Reporting waits for every row.
  await field(page, 'Summary and conclusion').fill('Too early');
  await button(page, 'Report audit').click();
  await page.getByText(/Every checklist row needs a result/).first().waitFor();

  await field(page, 'Kind').selectOption('minor_nonconformity');
  await field(page, 'Requirement or clause').selectOption('8.6.1-a');
  await field(page, 'Statement (what was found)').fill('Three of twenty incidents were closed without a category.');
  await field(page, 'Evidence (required for a nonconformity)').fill('Sample of 20 resolved incidents');
  await button(page, 'Record finding').click();
  const ncLink = page.locator('#findings a[href^="/nonconformities/"]');
  await ncLink.waitFor();
  await shot(page, 'audit-in-progress');

  await ncLink.click();
  await page.waitForURL(/\/nonconformities\/\d+$/);
  await page.getByRole('heading', { level: 1, name: /Audit finding against 8\.6\.1-a/ }).waitFor();
  // The action form's fields by name: the page's edit form above it uses the same element ids.
  const action = page.locator('form[action$="/actions"]');
  await action.locator('textarea[name="description"]').fill('Make the category required when resolving');
  await action.locator('select[name="owner_id"]').selectOption({ label: 'Olga Owner' });
  await action.locator('input[name="due"]').fill(isoDay(14));
  await button(action, 'Add action').click();
  await page.getByText('Make the category required when resolving').first().waitFor();
  await shot(page, 'audit-nonconformity-action');

  await page.goto(`${server.base}${auditPath}`);
  await page.getByRole('link', { name: 'Programme' }).click();
  assert.ok(await page.locator('.cal-audit', { hasText: 'Incident management' }).isVisible());
  assert.ok(await page.locator('.coverage-matrix').getByText('✓ 1').first().isVisible());
  await shot(page, 'audit-programme-calendar');
  await context.close();
});
