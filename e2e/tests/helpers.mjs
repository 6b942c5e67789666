// Shared helpers for Steward browser tests: start a real server on a fresh
// SQLite database, drive the system Chromium with playwright-core.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(E2E_DIR, '..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');

export const STEWARD_BIN = process.env.STEWARD_BIN
  ? path.resolve(REPO_ROOT, process.env.STEWARD_BIN)
  : path.join(REPO_ROOT, 'target', 'debug', 'steward');

export const TENANT_NAME = 'Acme IT';
export const TENANT_SLUG = 'acme-it';
export const ADMIN_EMAIL = 'admin@acme.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** Run `steward <args>` to completion; resolves {stdout, stderr}, rejects on non-zero exit. */
export function runCli(args, { env, input, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(STEWARD_BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${STEWARD_BIN} ${args.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(
        `steward ${args.join(' ')} exited with ${code ?? signal}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    });
    child.stdin.on('error', () => {}); // child may exit before reading stdin
    child.stdin.end(input ?? '');
  });
}

/**
 * Provision a fresh database (init, tenant, admin user) and start `steward serve`.
 * Returns { base, env, tmp, stop(), logs() }.
 */
export async function startServer() {
  const tmp = await mkdtemp(path.join(tmpdir(), 'steward-e2e-'));
  const env = { ...process.env, STEWARD_DATABASE_URL: `sqlite://${tmp}/steward.db` };

  await runCli(['init'], { env });
  const tenant = await runCli(['tenant', 'create', '--name', TENANT_NAME], { env });
  const slug = tenant.stdout.trim().split('\n').pop().trim();
  if (slug !== TENANT_SLUG) {
    throw new Error(`expected tenant slug ${TENANT_SLUG} as last stdout line, got ${JSON.stringify(slug)}`);
  }
  await runCli(
    ['user', 'create', '--tenant', TENANT_SLUG, '--email', ADMIN_EMAIL, '--role', 'admin', '--password-stdin'],
    { env, input: `${ADMIN_PASSWORD}\n` },
  );

  const child = spawn(STEWARD_BIN, ['serve', '--listen', '127.0.0.1:0'], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  child.stderr.on('data', (d) => { stderr += d; });

  const base = await new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`steward serve ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail('did not print "listening on http://..." within 30 s'), 30_000);
    child.on('error', (err) => fail(`could not start: ${err.message}`));
    exitPromise.then((e) => fail(`exited early (${e.code ?? e.signal})`));
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(t);
    }
    await rm(tmp, { recursive: true, force: true });
  }

  return { base, env, tmp, stop, logs: () => ({ stdout, stderr }) };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync',
    ],
  });
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Form control by its exact label text. Tolerates a trailing required marker
 * ("Name *", "Name (required)") but not other words, so "Name" does not match
 * "Contact name".
 */
export function field(scope, label) {
  return scope.getByLabel(new RegExp(`^\\s*${escapeRe(label)}(\\s*\\*|\\s*\\(?required\\)?)?\\s*$`));
}

export function button(scope, name) {
  return scope.getByRole('button', { name, exact: true });
}

export function link(scope, name) {
  return scope.getByRole('link', { name, exact: true });
}

export function heading(page, name) {
  return page.getByRole('heading', { level: 1, name, exact: true });
}

/** The main navigation: the <nav> that holds the "Services" link. */
export function mainNav(page) {
  return page.locator('nav', { has: link(page, 'Services') }).first();
}

export async function navTo(page, name) {
  await link(mainNav(page), name).click();
  await heading(page, name).waitFor();
}

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

export async function login(page, base, email, password) {
  await page.goto(`${base}/login`);
  await field(page, 'Email').fill(email);
  await field(page, 'Password').fill(password);
  await button(page, 'Sign in').click();
  await page.waitForURL((url) => !url.pathname.endsWith('/login'));
}

export async function shot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The day `offsetDays` from today, as a date field takes it (YYYY-MM-DD). */
export function isoDay(offsetDays) {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** Creates `people` ([email, role, name]) in the test tenant; they sign in with ADMIN_PASSWORD. */
export async function addPeople(server, people) {
  for (const [email, role, name] of people) {
    await runCli(
      ['user', 'create', '--tenant', TENANT_SLUG, '--email', email, '--role', role,
        '--name', name, '--password-stdin'],
      { env: server.env, input: `${ADMIN_PASSWORD}\n` },
    );
  }
}
