// The reset-password page in a real browser: a user asks for a reset, opens the
// link from the mail that arrived, is refused a weak password, sets a good one
// with the keyboard alone, and logs in with it; an expired link offers a new one.
// Both with JavaScript on and with JavaScript disabled in Chromium, where the
// page is plain HTML forms that post and get the page back.
// Run by infra/test.sh with the functions served at E2E_BASE_URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.env.E2E_BASE_URL;
const ses = process.env.AWS_ENDPOINT_URL_SESV2;
const accountctl = `${process.env.CARGO_TARGET_DIR}/debug/accountctl`;
assert.ok(base && ses && process.env.CARGO_TARGET_DIR, "run through infra/test.sh");

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => browser && (await browser.close()));

const unique = (p) => p + randomUUID().slice(0, 8);
const ctl = (args, input) => execFileSync(accountctl, args, { input, encoding: "utf8" });

/** A tenant whose reset links point at the page served by the stack under test. */
function tenantWithPage(extra = []) {
  const tenant = unique("b") + ".test";
  const page = `${base}/t/${tenant}/recovery/reset-password`;
  const origin = base.replace(/[.]/g, "\\.");
  ctl(["tenant", "set", "--tenant", tenant, `recovery.callback_regex=^${origin}/.*`,
    `recovery.default_callback=${page}`, ...extra]);
  return tenant;
}

function addUser(tenant) {
  const username = unique("ann-");
  const email = `${username}@example.test`;
  const password = "Original-Passw0rd-" + randomUUID().slice(0, 4);
  ctl(["user", "add", "--tenant", tenant, "--username", username, "--email", email, "--password-stdin"], password + "\n");
  return { username, email, password };
}

// Mail leaves through the outbox (the relay hands it to the mailer), a moment
// after the answer: wait for `count` mails, for up to 30 s.
async function mailsTo(email, count = 1) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const store = await (await fetch(`${ses}/store`)).json();
    const mails = store.emails.filter((m) => m.destination.to.includes(email));
    if (mails.length >= count || Date.now() > deadline) return mails;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function requestReset(tenant, username) {
  const r = await fetch(`${base}/t/${tenant}/api/identity/recovery/v0.9/recover-password?type=email&notify=true`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: { username }, properties: [] }),
  });
  assert.equal(r.status, 202);
}

function linkIn(mail) {
  const m = mail.body.text.match(/(https?:\/\/\S+confirmation=([0-9a-f-]{36}))/);
  assert.ok(m, mail.body.text);
  return { link: m[1], key: m[2] };
}

test("a user resets the password from the mailed link, with the keyboard alone", async () => {
  const tenant = tenantWithPage();
  const user = addUser(tenant);
  await requestReset(tenant, user.username);
  const mails = await mailsTo(user.email);
  assert.equal(mails.length, 1);
  const { link, key } = linkIn(mails[0]);
  assert.ok(link.startsWith(`${base}/t/${tenant}/recovery/reset-password?confirmation=`), link);

  const context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() || "", headers: r.headers() }));
  const response = await page.goto(link);
  assert.match(response.headers()["content-security-policy"], /default-src 'none'/);
  assert.equal(response.headers()["referrer-policy"], "no-referrer");

  // The key left the address bar, and the tenant's guidelines are shown.
  await page.waitForSelector("#guidelines li");
  assert.ok(!page.url().includes(key), page.url());
  assert.match(await page.textContent("#guidelines"), /Between 8 and 64 characters/);

  // Keyboard only: Tab to the field, type, the toggle shows the password, Enter submits.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "password");
  await page.keyboard.type("password1");
  assert.match(await page.textContent("#hints"), /At least 8 characters \(9 so far\)/);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "toggle");
  await page.keyboard.press("Space");
  assert.equal(await page.getAttribute("#password", "type"), "text");
  await page.keyboard.press("Tab");
  await page.keyboard.type("password1");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#form-error:not([hidden])");
  assert.match(await page.textContent("#form-error"), /most commonly used/);
  mkdirSync(`${process.env.HOME}/.cache/account-recovery/logs`, { recursive: true });
  await page.screenshot({ path: `${process.env.HOME}/.cache/account-recovery/logs/reset-page.png`, fullPage: true });

  const good = "Browser-Chosen-Passw0rd";
  await page.fill("#password", good);
  await page.fill("#confirm", good);
  await page.focus("#confirm");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#done:not([hidden])");
  assert.equal(await page.textContent("#title"), "Password changed");

  // The key went to set-password and nowhere else; no request carried a referrer.
  const withKey = requests.filter((r) => r.url.includes(key) || r.body.includes(key));
  assert.deepEqual([...new Set(withKey.map((r) => new URL(r.url).pathname))], [
    `/t/${tenant}/recovery/reset-password`, // the link itself
    `/t/${tenant}/api/identity/recovery/v0.9/validate-code`, // the link checked on arrival
    `/t/${tenant}/api/identity/recovery/v0.9/set-password`, // the refused and the accepted attempt
  ]);
  assert.ok(withKey.slice(1).every((r) => r.method === "POST" && !r.url.includes(key)), "only POST bodies carry it");
  assert.ok(requests.every((r) => !r.headers.referer), "no Referer header");
  await context.close();

  const login = await fetch(`${base}/t/${tenant}/api/identity/auth/v1.1/authenticate`, {
    method: "POST",
    headers: { Authorization: "Basic " + Buffer.from(`${user.username}:${good}`).toString("base64") },
  });
  assert.equal(login.status, 200);
  assert.equal((await mailsTo(user.email, 2)).length, 2, "the password-changed notice");
});

test("an expired link says so on arrival and sends a new one", async () => {
  const tenant = tenantWithPage(["recovery.expiry=3s"]);
  const user = addUser(tenant);
  await requestReset(tenant, user.username);
  const { link } = linkIn((await mailsTo(user.email))[0]);
  await new Promise((r) => setTimeout(r, 3100));

  const page = await browser.newPage();
  await page.goto(link);
  // The key is checked as the page opens (validate-code): no password typed in vain.
  await page.waitForSelector("#invalid:not([hidden])");
  assert.equal(await page.textContent("#invalid-message"), "This link has expired.");

  await page.fill("#username", user.username);
  await page.click("#again");
  await page.waitForSelector("#again-sent:not([hidden])");
  const mails = await mailsTo(user.email, 2);
  assert.equal(mails.length, 2, "a new link was mailed");
  assert.ok(linkIn(mails[1]).link.startsWith(`${base}/t/${tenant}/recovery/reset-password?`));
  await page.close();
});

test("without JavaScript the page is a form that posts, and every answer is a page", async () => {
  const tenant = tenantWithPage();
  const user = addUser(tenant);
  await requestReset(tenant, user.username);
  const { link, key } = linkIn((await mailsTo(user.email))[0]);

  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() || "", headers: r.headers() }));
  await page.goto(link);
  assert.equal(await page.isVisible("#reset"), true);
  assert.equal(await page.isVisible("#toggle"), false, "the toggle needs JavaScript");

  // A refused password: the page comes back with the rule and the form (key included).
  await page.fill("#password", "password1");
  await page.fill("#confirm", "password1");
  await Promise.all([page.waitForNavigation(), page.click("#submit")]);
  assert.match(await page.textContent("#form-error"), /most commonly used/);
  assert.ok(!page.url().includes(key), page.url());
  await page.screenshot({ path: `${process.env.HOME}/.cache/account-recovery/logs/reset-page-nojs.png`, fullPage: true });

  const good = "No-Script-Passw0rd";
  await page.fill("#password", good);
  await page.fill("#confirm", good);
  await Promise.all([page.waitForNavigation(), page.click("#submit")]);
  assert.equal(await page.isVisible("#done"), true);
  assert.equal(await page.textContent("#title"), "Password changed");

  // The key travelled in form bodies only: never in a posted URL, never with a referrer.
  const posts = requests.filter((r) => r.method === "POST");
  assert.equal(posts.length, 2);
  assert.ok(posts.every((r) => new URL(r.url).pathname === `/t/${tenant}/recovery/reset-password` && !r.url.includes(key)));
  assert.ok(posts.every((r) => new URLSearchParams(r.body).get("key") === key));
  assert.ok(requests.every((r) => !r.headers.referer), "no Referer header");
  await context.close();

  const login = await fetch(`${base}/t/${tenant}/api/identity/auth/v1.2/authenticate`, {
    method: "POST",
    headers: { Authorization: "Basic " + Buffer.from(`${user.username}:${good}`).toString("base64") },
  });
  assert.equal(login.status, 200);
});

test("without JavaScript an expired link says so and its form mails a new one", async () => {
  const tenant = tenantWithPage(["recovery.expiry=3s"]);
  const user = addUser(tenant);
  await requestReset(tenant, user.username);
  const { link } = linkIn((await mailsTo(user.email))[0]);
  await new Promise((r) => setTimeout(r, 3100));

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(link);
  await page.fill("#password", "Too-Late-Passw0rd");
  await page.fill("#confirm", "Too-Late-Passw0rd");
  await Promise.all([page.waitForNavigation(), page.click("#submit")]);
  assert.equal(await page.textContent("#invalid-message"), "This link has expired.");
  await page.fill("#username", user.username);
  await Promise.all([page.waitForNavigation(), page.click("#again")]);
  assert.equal(await page.isVisible("#again-sent"), true);
  const mails = await mailsTo(user.email, 2);
  assert.equal(mails.length, 2, "a new link was mailed");
  assert.ok(linkIn(mails[1]).link.startsWith(`${base}/t/${tenant}/recovery/reset-password?`));
  await context.close();
});
