/** Driving `virtus web`'s page in headless Chromium: the terminal's DOM text and the keyboard. */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";

export const screen = (page: Page): Promise<string> => page.locator("#terminal .xterm-rows").innerText();

/** Waits until `text` is on the terminal's screen; fails with the screen when it never comes. */
export async function waitForScreen(page: Page, text: string, timeout: number): Promise<void> {
  await page
    .waitForFunction((t) => document.querySelector("#terminal .xterm-rows")?.textContent?.includes(t), text, {
      timeout,
      polling: 500,
    })
    .catch(async () => assert.fail(`"${text}" never appeared on the terminal:\n${await screen(page)}`));
}

/** Types a line into the terminal as a user does. */
export async function typeLine(page: Page, line: string): Promise<void> {
  await page.click("#terminal");
  await page.keyboard.type(`${line}\n`);
}
