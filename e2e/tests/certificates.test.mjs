// The certificate register in a real browser: a manager records the organisation's
// certificate through the form; then someone without an account opens the public
// verification page, types the number, and sees "Valid" with the certificate's details.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD, startServer, launchBrowser, login, shot, isoDay, addPeople,
  field, button, link, heading, navTo,
} from './helpers.mjs';

const NUMBER = 'ITSM-20K-E2E-001';
const MANAGER = 'quality@acme.test';

let server;
let browser;

before(async () => {
  server = await startServer();
  await addPeople(server, [[MANAGER, 'manager', 'Quinn Quality']]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function freshPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

test('a manager records a certificate in the register', async () => {
  const page = await freshPage();
  await login(page, server.base, MANAGER, ADMIN_PASSWORD);
  await navTo(page, 'Certificates');
  await link(page, 'Record certificate').click();
  await heading(page, 'Record a certificate').waitFor();
  await field(page, 'Certificate number').fill(NUMBER);
  await field(page, 'Organisation').fill('Acme IT GmbH');
  await field(page, 'Certification body').fill('Example Certification GmbH');
  await field(page, 'Accreditation body').fill('DAkkS');
  await field(page, "The certification body's accreditation number").fill('D-ZM-12345-01-00');
  await field(page, 'Scope statement (the services and the organisation delivering them)')
    .fill('Managed hosting and the service desk');
  await field(page, 'Sites (one per line)').fill('Berlin');
  await field(page, 'Original certification date').fill(isoDay(-340));
  await field(page, 'Issue date of this certificate').fill(isoDay(-340));
  await field(page, 'Expiry date').fill(isoDay(750));
  await field(page, 'Next surveillance audit').fill(isoDay(25));
  await button(page, 'Record certificate').click();
  await heading(page, `Certificate ${NUMBER}`).waitFor();
  const status = page.locator('.props .badge').first();
  assert.equal((await status.textContent()).trim(), 'Valid');
  assert.ok(await page.getByText('750 days to expiry').isVisible());
  await shot(page, 'certificate-recorded');
  await page.context().close();
});

test('anyone verifies it publicly by its number', async () => {
  const page = await freshPage();
  await page.goto(`${server.base}/verify`);
  await heading(page, 'Verify a certificate').waitFor();
  await field(page, 'Certificate number').fill(NUMBER);
  await button(page, 'Verify').click();
  await heading(page, `Certificate ${NUMBER}`).waitFor();
  const status = page.getByRole('status');
  assert.match(await status.textContent(), /Valid/);
  for (const text of ['Acme IT GmbH', 'Example Certification GmbH', 'ISO/IEC 20000-1:2018', isoDay(750)]) {
    assert.ok(await page.getByText(text, { exact: false }).first().isVisible(), `shows ${text}`);
  }
  // The signed statement and how to check it offline.
  await page.getByText(/Signed statement/).click();
  assert.ok(await page.getByText('steward verify-statement statement.json --keys keys.json').isVisible());
  await shot(page, 'certificate-verified');

  await page.goto(`${server.base}/verify`);
  await field(page, 'Certificate number').fill('NO-SUCH-CERT');
  await button(page, 'Verify').click();
  await heading(page, 'Certificate not found').waitFor();
  await page.context().close();
});
