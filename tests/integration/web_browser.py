#!/usr/bin/python3
# web_browser.py UNSUBSCRIBE_URL VIEW_URL EXPECTED_TEXT: a person in a real browser (headless
# Chromium through chromedriver and python3-selenium): opens the unsubscribe link, sees the
# masked address, presses the one button and sees the confirmation; then opens "view in
# browser" and sees EXPECTED_TEXT (the personalised content). Prints what it saw; exits 0 when
# all of it was there, 1 otherwise. Driven by web_test.cpp (WebBrowserTest), which then asks the
# daemon whether the recipient is unsubscribed. Run with /usr/bin/python3 (Debian's selenium).
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def main():
    unsubscribe_url, view_url, expected = sys.argv[1:4]
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failures = []
    try:
        driver.set_page_load_timeout(30)
        driver.get(unsubscribe_url)
        page = driver.find_element(By.TAG_NAME, "body").text
        print("unsubscribe page:", page.replace("\n", " | "))
        if "\u2022\u2022\u2022@example.org" not in page:
            failures.append("the page does not show the masked address")
        buttons = driver.find_elements(By.TAG_NAME, "button")
        if len(buttons) != 1:
            failures.append("expected one button, found %d" % len(buttons))
        else:
            button = buttons[0]
            button.click()
            # The click only starts the form's POST: until the browser has replaced the page,
            # find_element still finds the old page's heading (and reading it can then fail as
            # stale). Wait for the old page to go first; the check below stays on its text.
            WebDriverWait(driver, 30).until(expected_conditions.staleness_of(button))
            confirmation = driver.find_element(By.TAG_NAME, "h1").text
            print("after the button:", confirmation)
            if "You are unsubscribed" not in confirmation:
                failures.append("no confirmation after the button")
        driver.get(view_url)
        view = driver.find_element(By.TAG_NAME, "body").text
        print("view in browser:", view.replace("\n", " | "))
        if expected not in view:
            failures.append("the view does not show %r" % expected)
    finally:
        driver.quit()
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
