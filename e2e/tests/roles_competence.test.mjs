// Roles (ISO/IEC 20000-1 5.3) and competence (7.2) in a real browser: a manager defines a
// role, assigns a person to it (who is sent a notice), makes it accountable for problem
// management in the RACI matrix, sets out what the role demands, sees the new holder's gap in
// the competence matrix, raises an action for it from the gap's cell, and corrects the
// requirement from the role profiles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD, startServer, launchBrowser, login, shot, isoDay, addPeople,
  field, button, link, heading, navTo, pathOf,
} from './helpers.mjs';

const MANAGER = 'quality@acme.test';
const ANALYST = 'pia@acme.test';

let server;
let browser;

before(async () => {
  server = await startServer();
  await addPeople(server, [
    [MANAGER, 'manager', 'Quinn Quality'],
    [ANALYST, 'agent', 'Pia Problem'],
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a manager defines a role, assigns it, owns a process with it and closes the holder\'s gap', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await login(page, server.base, MANAGER, ADMIN_PASSWORD);

  await navTo(page, 'Management system');
  await link(page, 'Roles and responsibilities').click();
  await heading(page, 'Roles and responsibilities').waitFor();
  await link(page, 'New role').click();
  await heading(page, 'New role').waitFor();
  await field(page, 'Name').fill('Problem manager');
  await field(page, 'Responsibilities').fill('Finds and removes the root causes of incidents');
  await field(page, 'Authorities').fill('Raises changes for known errors');
  await button(page, 'Create').click();
  await heading(page, 'Role: Problem manager').waitFor();
  const rolePath = pathOf(page);
  assert.match(rolePath, /^\/roles\/\d+$/);

  await field(page, 'Person').selectOption({ label: 'Pia Problem' });
  await field(page, 'From').fill(isoDay(0));
  await button(page, 'Assign').click();
  const holder = page.locator('#holders-h + table tbody tr', { hasText: 'Pia Problem' });
  await holder.waitFor();
  assert.ok(await holder.getByText('current').isVisible());
  assert.ok(await holder.getByText(/waiting to go out|sent /).isVisible(), 'the notice is shown');
  await shot(page, 'role-assigned');

  await page.goto(`${server.base}/raci`);
  await heading(page, 'RACI matrix').waitFor();
  await page.locator('tr', { hasText: 'Problem management' }).getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('heading', { level: 1, name: /RACI: 8\.6\.3/ }).waitFor();
  await field(page, 'Problem manager').selectOption('A');
  await button(page, 'Save').click();
  await heading(page, 'RACI matrix').waitFor();
  const row = page.locator('tr', { hasText: 'Problem management' });
  assert.ok(await row.getByText('A', { exact: true }).isVisible(), 'accountable');
  await shot(page, 'raci-matrix');

  await navTo(page, 'Management system');
  await link(page, 'Competence and training').click();
  await heading(page, 'Competence').waitFor();
  assert.ok(await page.getByText('Roles held without a competence profile: Problem manager').isVisible());
  await field(page, 'Role').selectOption({ label: 'Problem manager' });
  await field(page, 'Requirement').fill('Kepner-Tregoe analysis');
  await button(page, 'Add requirement').click();
  const gap = page.locator('.competence-matrix tr', { hasText: 'Pia Problem' }).locator('a.badge');
  await gap.waitFor();
  await shot(page, 'competence-gap');

  await gap.click();
  await page.waitForURL(/\/competence\/people\/\d+/);
  const raise = page.locator('form#raise');
  assert.equal(
    await raise.locator('select[name="requirement_id"] option:checked').textContent(),
    'Problem manager: Kepner-Tregoe analysis',
  );
  await raise.locator('textarea[name="description"]').fill('Two-day KT course');
  await raise.locator('select[name="owner_id"]').selectOption({ label: 'Quinn Quality' });
  await raise.locator('input[name="due_date"]').fill(isoDay(30));
  await button(raise, 'Raise action').click();
  await page.getByText('Two-day KT course').first().waitFor();

  await page.goto(`${server.base}/competence`);
  assert.ok(await page.locator('.summary').getByText(/1\s*gap with an action under way/).isVisible());
  await page.getByRole('link', { name: 'Edit Kepner-Tregoe analysis (Problem manager)' }).click();
  await page.getByRole('heading', { name: 'Edit requirement' }).waitFor();
  await field(page, 'Requirement').fill('Kepner-Tregoe problem analysis');
  await button(page, 'Save requirement').click();
  await page.getByRole('cell', { name: 'Kepner-Tregoe problem analysis', exact: true }).waitFor();
  await shot(page, 'competence-profiles');
  await context.close();
});
