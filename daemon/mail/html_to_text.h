// html_to_text.h: the text/plain alternative of a campaign that has only HTML. The HTML is
// parsed with libxml2's HTML parser (never with regular expressions) and walked: block elements
// end lines, paragraphs and headings are separated by a blank line, <br> breaks a line, list
// items read "- item" ("1. item" in an ordered list, indented when nested), quotations "> ",
// links "text <url>" when the text is not the URL itself, images their alt text. Entities are
// decoded, white space collapsed (kept in <pre>), lines wrapped at 76 characters between words.
// Skipped: <head>, <style>, <script>, <title>, and elements hidden with display:none.
#pragma once

#include <string>
#include <string_view>

namespace campaignd::mail {

// Lines end with "\n"; the result ends with one "\n" unless it is empty. Mustache tags in the
// HTML come through as text, so the result is itself a template.
std::string htmlToText(std::string_view html);

}  // namespace campaignd::mail
