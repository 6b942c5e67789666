// The browser-level UI contract of Steward. Tests run in order and share one
// logged-in browser page; each test builds on the state left by the previous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, startServer, launchBrowser, login, shot,
  field, button, link, heading, mainNav, navTo, pathOf,
} from './helpers.mjs';

let server;
let browser;
let context;
let page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Submit without client-side validation so that the server's checks are exercised. */
async function disableNativeValidation(p) {
  await p.locator('form').evaluateAll((forms) => forms.forEach((f) => { f.noValidate = true; }));
}

function row(p, text) {
  return p.getByRole('row').filter({ hasText: text });
}

test('wrong password shows an alert and stays on /login', async () => {
  const ctx = await browser.newContext();
  try {
    const p = await ctx.newPage();
    await p.goto(`${server.base}/login`);
    await field(p, 'Email').fill(ADMIN_EMAIL);
    await field(p, 'Password').fill('not the password');
    await button(p, 'Sign in').click();
    await p.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
    assert.match(pathOf(p), /\/login$/);
    await shot(p, 'login-error');
  } finally {
    await ctx.close();
  }
});

test('login and navigation', async () => {
  await login(page, server.base, ADMIN_EMAIL, ADMIN_PASSWORD);
  const nav = mainNav(page);
  for (const name of ['Services', 'Customers', 'Users', 'Teams', 'API tokens', 'Journal']) {
    assert.equal(await link(nav, name).count(), 1, `nav link ${name}`);
  }
  await shot(page, 'home');
});

test('services: validation, create, list', async () => {
  await navTo(page, 'Services');
  await link(page, 'New service').click();

  for (const label of ['Name', 'Description']) await field(page, label).waitFor();
  for (const label of ['Owner', 'Criticality', 'Status']) {
    assert.equal(await field(page, label).evaluate((el) => el.tagName), 'SELECT', `${label} is a select`);
  }
  const optionValues = (label) => field(page, label).locator('option')
    .evaluateAll((os) => os.map((o) => `${o.value} ${o.textContent}`.toLowerCase()));
  const crit = await optionValues('Criticality');
  for (const v of ['high', 'medium', 'low']) assert.ok(crit.some((o) => o.includes(v)), `criticality ${v}`);
  const status = await optionValues('Status');
  for (const v of ['pipeline', 'live', 'retired']) assert.ok(status.some((o) => o.includes(v)), `status ${v}`);

  // Empty name: the server rejects it and re-renders the form, keeping input.
  await field(page, 'Description').fill('Monthly payroll run');
  await disableNativeValidation(page);
  await button(page, 'Create service').click();
  await page.getByRole('alert').first().waitFor({ state: 'visible' });
  await page.getByText('Name is required').first().waitFor();
  await button(page, 'Create service').waitFor();
  assert.equal(await field(page, 'Description').inputValue(), 'Monthly payroll run');
  await shot(page, 'service-new-error');

  await field(page, 'Name').fill('Payroll');
  await field(page, 'Description').fill('Monthly payroll run');
  await field(page, 'Criticality').selectOption('high');
  await button(page, 'Create service').click();
  await heading(page, 'Payroll').waitFor();
  assert.match(await page.locator('main').innerText(), /high/i);
  await shot(page, 'service-view');

  await navTo(page, 'Services');
  await row(page, 'Payroll').first().waitFor();
  await shot(page, 'services-list');
});

test('services: edit', async () => {
  await link(row(page, 'Payroll').first(), 'Payroll').click();
  await heading(page, 'Payroll').waitFor();
  await link(page, 'Edit').click();
  await field(page, 'Name').fill('Payroll Service');
  await button(page, 'Save').click();
  await heading(page, 'Payroll Service').waitFor();
});

test('customers: create and add a contact', async () => {
  await navTo(page, 'Customers');
  await link(page, 'New customer').click();
  await field(page, 'Name').fill('Globex');
  await field(page, 'Notes').fill('Owns a hammock district');
  await button(page, 'Create customer').click();
  await heading(page, 'Globex').waitFor();

  await field(page, 'Contact name').fill('Hank Scorpio');
  await field(page, 'Contact email').fill('hank@globex.test');
  await button(page, 'Add contact').click();
  await row(page, 'hank@globex.test').first().waitFor();
  await heading(page, 'Globex').waitFor();
  await shot(page, 'customer-view');
});

test('admin: users and API tokens', async () => {
  await navTo(page, 'Users');
  await row(page, ADMIN_EMAIL).first().waitFor();

  await navTo(page, 'API tokens');
  await field(page, 'Label').fill('ci');
  await button(page, 'Create token').click();
  const token = page.locator('code.token');
  await token.first().waitFor();
  assert.ok((await token.first().innerText()).trim().length > 0, 'token is shown');
  await page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'ci', exact: true }) })
    .first().waitFor();
  await shot(page, 'tokens');
});

test('CSRF: a form post without _csrf is refused with 403', async () => {
  const bad = await page.request.post(`${server.base}/services`, { form: { name: 'x' }, maxRedirects: 0 });
  assert.equal(bad.status(), 403);

  // Control: the same session with the form's token is not refused.
  await navTo(page, 'Services');
  await link(page, 'New service').click();
  const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
  assert.ok(csrf.length > 0, 'the form carries a _csrf field');
  const good = await page.request.post(`${server.base}/services`, {
    form: { _csrf: csrf, name: 'CSRF control', description: '', criticality: 'low', status: 'live' },
    maxRedirects: 0,
  });
  assert.notEqual(good.status(), 403);
});

test('logout', async () => {
  await button(page, 'Sign out').click();
  await page.waitForURL((url) => url.pathname.endsWith('/login'));
  await page.goto(`${server.base}/services`);
  assert.match(pathOf(page), /\/login$/);
});
