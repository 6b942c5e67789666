// A manager sets a service level agreement; an incident then shows its clock, explained.
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

test('a refused agreement says why at the row; a good one is saved', async () => {
  await navTo(page, 'Agreements');
  await link(page, 'New agreement').first().click();
  await field(page, 'Name').fill('Standard support');
  await button(page, 'Create agreement').click();
  await page.locator('#e-targets', { hasText: 'An agreement needs at least one target' }).waitFor();
  assert.equal(await field(page, 'Name').inputValue(), 'Standard support', 'what was typed stays');

  await page.getByLabel('Hours, target 1').fill('4');
  await button(page, 'Create agreement').click();
  await heading(page, 'Standard support').waitFor();
  assert.match(await page.locator('main').innerText(), /resolution/i);
  await shot(page, 'agreement-view');
});

test('a new incident shows its running clock and why', async () => {
  await navTo(page, 'Incidents');
  await link(page, 'New incident').click();
  await field(page, 'Title').fill('Payroll export fails');
  await button(page, 'Create incident').click();
  await page.getByRole('heading', { level: 1, name: /INC-1/ }).waitFor();

  const panel = page.locator('section.sla-panel');
  await panel.waitFor();
  assert.match(await panel.innerText(), /resolution/i);
  assert.equal((await panel.locator('.badge.sla-running').first().innerText()).trim(), 'running');
  assert.match(await panel.innerText(), /Standard support/);
  await panel.getByText('Why').first().click();
  assert.match(await panel.innerText(), /pauses while status is pending awaiting customer/);
  await shot(page, 'incident-sla-panel');

  await panel.getByText('Exclude from attainment').click();
  await button(panel, 'Exclude').click();
  assert.equal(await button(panel, 'Count it again').count(), 0, 'a reason is required');
  await field(panel, 'Reason').fill('Test record, not a real outage');
  await button(panel, 'Exclude').click();
  await button(page.locator('section.sla-panel'), 'Count it again').waitFor();
  assert.match(await page.locator('section.sla-panel').innerText(), /Test record, not a real outage/);
});
