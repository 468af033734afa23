#!/usr/bin/python3
# cockpit_browser.py PAGE_URL SCENARIO SCREENSHOT_DIR [ARG]: an administrator (or not) at
# campaignd's Cockpit page in a real browser (headless Chromium through chromedriver and
# python3-selenium), served by a real cockpit-ws whose bridge talks to a real daemon on the
# test's private system bus. PAGE_URL is the page's index.html. Prints what it saw; exits 0 when
# every step went as a person would expect, 1 otherwise. Driven by cockpit_test.cpp, which
# checks the daemon's side afterwards. Scenarios:
#   create-send GROUP   the form creates a campaign, the group is attached, Send; the progress
#                       bar reaches 100 % and the status Completed with the page never reloaded
#   pause-resume ID     campaign ID (throttled) sent, paused, resumed to the end, on its page
#   read-only ID        every action on the campaigns list and on campaign ID is disabled
#   import CSVFILE      the recipients page imports the file; its bad rows are listed
#   bounces ADDRESS     the bounces page lists a bounce of ADDRESS
#   people-admin -      recipients searched and paged by the daemon (of 120 "Reader N"), an
#                       address suppressed and lifted and another suppressed, group "vip"
#                       created, members added (a refused address shown in the daemon's words)
#                       and removed, group "old" deleted
#   people-reader GROUP the personal-data pages (recipients, suppressions, group GROUP) are
#                       shown, and nothing on them that changes state can be pressed
#   people-stranger GROUP  the same pages show the bus's refusal (printed) and no data; the
#                       groups list (open) is shown, nothing can be pressed
#   per-minute ID:COUNT the dashboard, open while campaign ID (COUNT recipients) is sent, draws
#                       its messages in the messages-per-minute chart without a reload
# Screenshots of what it visited go to SCREENSHOT_DIR (NAME.png).
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 60


class Page:
    def __init__(self, url, shots):
        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(TIMEOUT)
        self.url = url
        self.shots = shots
        self.failures = []

    def open(self, route):
        self.driver.get(self.url + "#" + route)
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'yes'"), "the page to start")
        # A mark that only this load of the page has: gone if the page reloads.
        self.driver.execute_script("window.campaigndTestMark = 'loaded once';")

    def go(self, route):
        """Moves within the page, as a link does (no reload)."""
        self.driver.execute_script("cockpit.location.go(arguments[0])", route)

    def wait(self, condition, what, timeout=TIMEOUT):
        try:
            # The page redraws parts of itself as the daemon's signals come: an element read
            # while it is replaced is read again at the next poll.
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)
        except Exception:
            self.fail("timed out waiting for " + what)
            raise

    def fail(self, what):
        print("FAILED:", what)
        self.failures.append(what)

    def text(self):
        return self.driver.find_element(By.ID, "view").text

    def action(self, name):
        return self.driver.find_element(By.CSS_SELECTOR, "#view [data-action='%s']" % name)

    def click(self, name):
        button = self.wait(lambda d: self.action(name) if self.action(name).is_enabled() else False,
                           "the %s button to be enabled" % name)
        button.click()

    def status(self):
        labels = self.driver.find_elements(By.CSS_SELECTOR, "#view h1 + [data-status]")
        return labels[0].get_attribute("data-status") if labels else None

    def wait_status(self, status):
        self.wait(lambda d: self.status() == status, "status " + status)
        print("status:", status)

    def progress(self):
        bars = self.driver.find_elements(By.CSS_SELECTOR, "#view [role=progressbar]")
        return int(bars[0].get_attribute("aria-valuenow")) if bars else -1

    def drawn_percent(self):
        """How much of the progress bar the indicator covers, as drawn (not as announced)."""
        return self.driver.execute_script(
            "const bar = document.querySelector('#view .pf-v5-c-progress__bar');"
            "const ind = bar.querySelector('.pf-v5-c-progress__indicator');"
            "return 100 * ind.getBoundingClientRect().width / bar.getBoundingClientRect().width;")

    def still_loaded_once(self):
        return self.driver.execute_script("return window.campaigndTestMark") == "loaded once"

    def shot(self, name):
        if self.shots:
            self.driver.save_screenshot(os.path.join(self.shots, name + ".png"))

    def quit(self):
        self.driver.quit()


def create_send(page, group):
    page.open("/new")
    page.wait(lambda d: d.find_element(By.NAME, "name"), "the form")
    page.driver.find_element(By.NAME, "name").send_keys("Spring newsletter")
    page.driver.find_element(By.NAME, "subject").send_keys("Hello {{ name }}")
    page.driver.find_element(By.NAME, "html_content").send_keys(
        "<h1>Spring</h1><p>Dear {{ name }},</p><p onclick=\"alert(1)\">News.</p><script>alert(2)</script>")
    page.click("preview")
    page.wait(lambda d: "Removed:" in d.find_element(By.CLASS_NAME, "ct-removed").text, "the preview")
    removed = page.driver.find_element(By.CLASS_NAME, "ct-removed").text
    print("preview:", removed)
    if "script" not in removed or "onclick" not in removed:
        page.fail("the preview does not say the script and the onclick were removed")
    page.shot("campaign-form")
    page.click("save")
    page.wait(lambda d: page.status() == "draft", "the new campaign's page")
    print("created:", page.driver.find_element(By.CSS_SELECTOR, "#view h1").text)
    page.wait(lambda d: len(Select(d.find_element(By.NAME, "group")).options) > 0, "the groups")
    Select(page.driver.find_element(By.NAME, "group")).select_by_value(group)
    page.click("attach")
    page.wait(lambda d: "Group attached" in d.find_element(By.ID, "alerts").text, "the attach")
    page.wait(lambda d: "Recipients" in page.text() and page.driver.find_element(
        By.CSS_SELECTOR, "[data-field=recipient_count]").text not in ("", "0"), "the recipients to count")
    print("recipients:", page.driver.find_element(By.CSS_SELECTOR, "[data-field=recipient_count]").text)
    page.click("send")
    seen = set()

    def finished(d):
        seen.add(page.progress())
        return page.progress() == 100 and page.status() == "completed"
    page.wait(finished, "the progress bar to reach 100 % and the campaign to complete")
    print("progress values seen:", sorted(seen))
    if not page.still_loaded_once():
        page.fail("the page reloaded")
    page.shot("campaign")
    page.go("/campaigns")
    page.wait(lambda d: "Spring newsletter" in page.text(), "the campaigns list")
    page.shot("campaigns")
    page.go("/")
    page.wait(lambda d: "Sending guard" in page.text(), "the dashboard")
    page.shot("dashboard")
    if not page.still_loaded_once():
        page.fail("the page reloaded")


def pause_resume(page, campaign):
    page.open("/campaign/" + campaign)
    page.wait_status("draft")
    page.click("send")
    page.wait_status("in_progress")
    page.wait(lambda d: page.progress() > 0, "some progress")
    page.click("pause")
    page.wait_status("paused")
    paused_at = page.progress()
    print("paused at:", paused_at, "%")
    page.go("/campaigns")
    page.go("/campaign/" + campaign)  # drawn afresh, not only updated by the signals
    page.wait_status("paused")
    drawn = page.drawn_percent()
    print("drawn: %.1f %%" % drawn)
    if abs(drawn - page.progress()) > 2:
        page.fail("the bar is drawn at %.1f %% but says %d %%" % (drawn, page.progress()))
    page.shot("campaign-paused")
    page.click("resume")
    page.wait(lambda d: page.progress() == 100 and page.status() == "completed", "the campaign to complete")
    if not page.still_loaded_once():
        page.fail("the page reloaded")


def read_only(page, campaign):
    page.open("/campaigns")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#view table, #view .ct-empty"), "the list")
    if page.action("create").is_enabled():
        page.fail("Create campaign is enabled for a user who may not change anything")
    page.go("/campaign/" + campaign)
    page.wait(lambda d: page.status() is not None, "the campaign page")
    buttons = page.driver.find_elements(By.CSS_SELECTOR, "#view button[data-action]")
    enabled = [b.get_attribute("data-action") for b in buttons if b.is_enabled()]
    print("actions offered:", [b.get_attribute("data-action") for b in buttons], "enabled:", enabled)
    if not buttons:
        page.fail("no actions shown at all")
    if enabled:
        page.fail("actions enabled for a user who may not change anything: " + ", ".join(enabled))
    page.shot("campaign-read-only")


def import_csv(page, csv_file):
    page.open("/recipients")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#view table, #view .ct-empty"), "the recipients list")
    page.driver.find_element(By.NAME, "csv").send_keys(csv_file)
    page.click("import")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-field=import-status] [data-state]"), "the import to finish")
    state = page.driver.find_element(By.CSS_SELECTOR, "[data-field=import-status] [data-state]")
    print("import:", state.get_attribute("data-state"), "|", state.text)
    if state.get_attribute("data-state") != "done":
        page.fail("the import did not finish done")
    refused = page.driver.find_elements(By.CSS_SELECTOR, "[data-field=import-errors] tr[data-line]")
    for row in refused:
        print("refused row:", row.text)
    if not refused:
        page.fail("no refused rows listed")
    page.wait(lambda d: "grace@example.org" in page.text(), "the imported recipients in the list")
    page.shot("recipients")
    page.go("/recipient/grace@example.org")
    page.wait(lambda d: "Campaigns" in page.text() and "Unsubscribes" in page.text(), "the recipient's page")
    page.shot("recipient")
    if not page.still_loaded_once():
        page.fail("the page reloaded")


def bounces(page, address):
    page.open("/bounces")
    page.wait(lambda d: address in page.text(), "the bounce of " + address)
    print("bounces:", page.text().replace("\n", " | ")[:500])
    page.shot("bounces")
    page.go("/")
    page.wait(lambda d: "Bounces by reason" in page.text() and "userunknown" in page.text(),
              "the dashboard's bounces by reason")


# ---- the personal-data pages (people.js) ----

def shown(page):
    """The pager's "first–last of total" text."""
    return page.driver.find_element(By.CSS_SELECTOR, "#view [data-field=shown]").text


def rows(page, attribute):
    return [r.get_attribute(attribute) for r in page.driver.find_elements(By.CSS_SELECTOR, "#view tr[data-%s]" % attribute[5:])]


def type_into(page, name, text):
    field = page.driver.find_element(By.CSS_SELECTOR, "#view [name='%s']" % name)
    field.clear()
    field.send_keys(text)


def enabled_actions(page):
    return [b.get_attribute("data-action") for b in page.driver.find_elements(By.CSS_SELECTOR, "#view button[data-action]")
            if b.is_enabled() and b.get_attribute("data-action") not in ("previous", "next")]


def people_admin(page, _):
    page.open("/recipients")
    page.wait(lambda d: shown(page) == "1\u201350 of 120", "the first page of 120 recipients")
    print("recipients:", shown(page))
    page.click("next")
    page.wait(lambda d: shown(page) == "51\u2013100 of 120", "the second page")
    page.click("next")
    page.wait(lambda d: shown(page) == "101\u2013120 of 120", "the last page")
    if page.action("next").is_enabled():
        page.fail("Next is enabled on the last page")
    # The daemon searches the names too, in any case: "READER 11" is Reader 11 and 110-119.
    type_into(page, "search", "READER 11")
    page.wait(lambda d: shown(page) == "1\u201311 of 11", "the 11 matches of READER 11")
    found = rows(page, "data-recipient")
    print("search READER 11:", shown(page), found)
    if sorted(found) != sorted(["reader11@example.org"] + ["reader11%d@example.org" % i for i in range(10)]):
        page.fail("the search found " + ", ".join(found))
    page.shot("recipients-search")
    type_into(page, "search", "%")
    page.wait(lambda d: "No recipients match." in page.text(), "no match for a literal %")

    page.go("/suppressions")
    page.wait(lambda d: "Nobody is suppressed." in page.text(), "the empty suppression list")
    page.driver.execute_script("window.confirm = () => true;")
    for address in ("reader5@example.org", "reader6@example.org"):
        type_into(page, "suppress-address", address)
        page.click("add-suppression")
        page.wait(lambda d: address in rows(page, "data-suppression"), "the suppression of " + address)
    print("suppressed:", rows(page, "data-suppression"))
    page.shot("suppressions")
    page.driver.find_element(By.CSS_SELECTOR, "#view tr[data-suppression='reader5@example.org'] [data-action=remove-suppression]").click()
    page.wait(lambda d: rows(page, "data-suppression") == ["reader6@example.org"], "reader5's suppression lifted")
    print("after the removal:", rows(page, "data-suppression"))

    page.go("/groups")
    page.wait(lambda d: "news" in rows(page, "data-group"), "the groups")
    for name in ("vip", "old"):
        type_into(page, "group-name", name)
        page.click("create-group")
        page.wait(lambda d: name in rows(page, "data-group"), "group " + name)
    page.driver.find_element(By.CSS_SELECTOR, "#view tr[data-group='old'] [data-action=delete-group]").click()
    page.wait(lambda d: "old" not in rows(page, "data-group"), "group old deleted")
    page.driver.find_element(By.LINK_TEXT, "vip").click()
    page.wait(lambda d: "No members yet." in page.text(), "the empty group")
    type_into(page, "add-members", "reader1@example.org, nobody@nowhere.example")
    page.click("add-members")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-field=group-result] .ct-inline-error"), "the refusal")
    refusal = page.driver.find_element(By.CSS_SELECTOR, "[data-field=group-result] .ct-inline-error").text
    print("refused:", refusal)
    if "nobody@nowhere.example" not in refusal:
        page.fail("the refusal does not name the address the daemon does not store")
    type_into(page, "add-members", "reader1@example.org\nreader2@example.org reader3@example.org")
    page.click("add-members")
    page.wait(lambda d: sorted(rows(page, "data-member")) == ["reader1@example.org", "reader2@example.org", "reader3@example.org"],
              "three members")
    page.driver.find_element(By.CSS_SELECTOR, "#view tr[data-member='reader1@example.org'] [data-action=remove-member]").click()
    page.wait(lambda d: sorted(rows(page, "data-member")) == ["reader2@example.org", "reader3@example.org"], "reader1 removed")
    print("members:", page.driver.find_element(By.CSS_SELECTOR, "[data-field=member-count]").text, rows(page, "data-member"))
    page.shot("group")
    if not page.still_loaded_once():
        page.fail("the page reloaded")


def people_reader(page, group):
    page.open("/recipients")
    page.wait(lambda d: shown(page).endswith("of 40"), "the recipients")
    type_into(page, "search", "reader3")
    page.wait(lambda d: shown(page) == "1\u201311 of 11", "the matches of reader3")
    offered = enabled_actions(page)
    page.go("/suppressions")
    page.wait(lambda d: rows(page, "data-suppression"), "the suppression list")
    print("suppressions:", rows(page, "data-suppression"))
    offered += enabled_actions(page)
    if page.driver.find_element(By.NAME, "suppress-address").is_enabled():
        offered.append("suppress-address")
    page.shot("suppressions-read-only")
    page.go("/group/" + group)
    page.wait(lambda d: rows(page, "data-member"), "the members")
    print("members:", page.driver.find_element(By.CSS_SELECTOR, "[data-field=member-count]").text)
    offered += enabled_actions(page)
    if page.driver.find_element(By.NAME, "add-members").is_enabled():
        offered.append("add-members text")
    page.go("/groups")
    page.wait(lambda d: group in rows(page, "data-group"), "the groups")
    offered += enabled_actions(page)
    print("enabled for the reader:", offered)
    if offered:
        page.fail("actions that change state are enabled for a reader: " + ", ".join(offered))


def people_stranger(page, group):
    refusals = []
    for route in ("/recipients", "/suppressions", "/group/" + group):
        page.open(route)
        page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#view [data-refused]"), "the refusal on " + route)
        text = page.driver.find_element(By.CSS_SELECTOR, "#view [data-refused]").text
        print("refused on %s: %s" % (route, text))
        refusals.append(text)
        if page.driver.find_elements(By.CSS_SELECTOR, "#view tr[data-recipient], #view tr[data-member], #view tr[data-suppression]"):
            page.fail("personal data shown on " + route)
        if enabled_actions(page):
            page.fail("actions enabled on %s: %s" % (route, enabled_actions(page)))
        if route == "/recipients":
            page.shot("recipients-refused")
    page.go("/groups")
    page.wait(lambda d: group in rows(page, "data-group"), "the groups (open to anyone)")
    if enabled_actions(page):
        page.fail("actions enabled on the groups: %s" % enabled_actions(page))
def minute_columns(page):
    """The messages-per-minute chart's drawn minutes: [(minute start, messages)]."""
    return [(int(g.get_attribute("data-minute")), int(g.get_attribute("data-messages")))
            for g in page.driver.find_elements(By.CSS_SELECTOR, "#view svg.ct-per-minute g.ct-minute")]


def per_minute(page, arg):
    campaign, count = arg.split(":")
    page.open("/")
    page.wait(lambda d: "Messages per minute" in page.text(), "the messages-per-minute chart")
    if "No messages in the last 24 hours." not in page.text() or minute_columns(page):
        page.fail("the chart has minutes before anything was sent")
    # Sent from elsewhere (as another tab or campaignd-ctl would), with the page's own bus
    # connection: the dashboard stays open and must follow the campaign's signals.
    page.driver.execute_script("onCampaign(arguments[0], 'Send', [], null)", int(campaign))
    page.wait(lambda d: sum(n for _, n in minute_columns(page)) == int(count),
              "the chart's minutes to add up to the %s messages sent" % count)
    columns = minute_columns(page)
    print("minutes drawn:", columns)
    bars = page.driver.find_elements(By.CSS_SELECTOR, "#view svg.ct-per-minute g.ct-minute rect")
    if not bars or any(float(b.get_attribute("height")) <= 0 for b in bars):
        page.fail("the minutes have no visible bars")
    legend = page.driver.find_element(By.CSS_SELECTOR, "#view svg.ct-per-minute + .ct-legend").text
    print("legend:", legend.replace("\n", " | "))
    if "Sent: " + count not in legend:
        page.fail("the legend does not say Sent: " + count)
    if not page.still_loaded_once():
        page.fail("the page reloaded")
    page.shot("dashboard-per-minute")


def main():
    url, scenario, shots = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    page = Page(url, shots)
    try:
        {"create-send": create_send, "pause-resume": pause_resume, "read-only": read_only,
         "import": import_csv, "bounces": bounces,
         "people-admin": people_admin, "people-reader": people_reader, "people-stranger": people_stranger,
         "per-minute": per_minute}[scenario](page, arg)
    except Exception as e:  # a timeout is already a failure; anything else is one too
        if not page.failures:
            page.fail("%s: %s" % (type(e).__name__, e))
        print("page text:", page.text().replace("\n", " | ")[:2000])
        page.shot("failure-" + scenario)
    finally:
        page.quit()
    return 1 if page.failures else 0


if __name__ == "__main__":
    sys.exit(main())
