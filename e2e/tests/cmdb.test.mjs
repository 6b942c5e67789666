// The CMDB in a real browser: an admin defines a class with an attribute, records two CIs,
// relates them, sees the relationship graph around a CI and what its failure would reach.
// Tests run in order and share one logged-in page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, startServer, launchBrowser, login, shot,
  field, button, link, heading, mainNav,
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

async function toCmdb() {
  await link(mainNav(page), 'CMDB').click();
  await heading(page, 'Configuration items').waitFor();
}

test('an admin defines a class with a required attribute', async () => {
  await toCmdb();
  await link(page, 'Classes and relationship types').first().click();
  await heading(page, 'Classes and relationship types').waitFor();
  await link(page, 'New class').click();
  await heading(page, 'New CI class').waitFor();
  await field(page, 'Name').fill('Server');
  await field(page, 'Attributes').fill('hostname | Host name | text | required\nram_gb | RAM (GB) | number');
  await button(page, 'Create class').click();
  await heading(page, 'Classes and relationship types').waitFor();
  assert.match(await page.locator('main').innerText(), /Host name \(text, required\), RAM \(GB\) \(number\)/);
  await shot(page, 'cmdb-classes');
});

/** Creates a Server CI; the first time, leaves the host name out to see the inline error. */
async function createServer(name, { missingHostFirst = false } = {}) {
  await toCmdb();
  await link(page, 'New CI').click();
  await heading(page, 'New CI').waitFor();
  await field(page, 'Class').selectOption({ label: 'Server' });
  await button(page, 'Continue').click();
  await field(page, 'Host name').waitFor();
  await field(page, 'Name').fill(name);
  if (missingHostFirst) {
    await button(page, 'Create CI').click();
    await page.locator('.field-error', { hasText: 'Host name is required' }).waitFor();
    assert.equal(await field(page, 'Name').inputValue(), name, 'what was typed stays');
    await shot(page, 'cmdb-ci-form-error');
  }
  await field(page, 'Host name').fill(`${name}.acme.test`);
  await button(page, 'Create CI').click();
  await heading(page, name).waitFor();
}

test('two CIs are recorded, the first after an inline error', async () => {
  await createServer('db01', { missingHostFirst: true });
  assert.match(await page.locator('main').innerText(), /db01\.acme\.test/);
  await createServer('payroll-app');
});

test('relating them draws the graph around each', async () => {
  // On payroll-app's page: payroll-app depends on db01.
  await field(page, 'Relationship').selectOption({ label: 'depends on / is needed by' });
  await field(page, 'Other CI').fill('db01');
  await button(page, 'Add relationship').click();
  await heading(page, 'payroll-app').waitFor();
  const graph = page.locator('svg.ci-graph');
  await graph.waitFor();
  assert.match(await graph.textContent(), /db01/);

  await page.locator('#relationships table').getByRole('link', { name: 'db01', exact: true }).click();
  await heading(page, 'db01').waitFor();
  const around = page.locator('svg.ci-graph');
  await around.waitFor();
  assert.match(await around.textContent(), /payroll-app/);
  assert.match(await page.locator('#relationships table').innerText(), /is needed by/);
  await shot(page, 'cmdb-ci-view');
});

test('the impact of the first CI lists the second', async () => {
  await link(page, 'Impact').click();
  await heading(page, 'Impact of db01').waitFor();
  const reached = page.locator('section', { has: page.getByRole('heading', { name: 'CIs reached' }) });
  await reached.getByRole('cell').getByRole('link', { name: 'payroll-app', exact: true }).first().waitFor();
  await page.locator('svg.bar-chart').waitFor();
  assert.match(await page.locator('p.summary').innerText(), /1 CI reached downstream of db01/);
  await shot(page, 'cmdb-impact');

  await page.getByLabel(/Upstream: what it needs/).check();
  await button(page, 'Analyse').click();
  await page.waitForURL(/direction=upstream/);
  assert.match(await page.locator('main').innerText(), /db01 depends on nothing/);
});
