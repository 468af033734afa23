// html_sanitizer.h: makes campaign HTML safe to store and to send. The input is parsed with
// libxml2's HTML parser (never with regular expressions), then only an allow-list of
// elements and attributes survives: scripts, event handlers, frames, objects, forms and
// javascript:/vbscript:/data: URLs (other than data:image) are removed. Text and the
// structure of ordinary e-mail HTML (tables, inline styles, images, links) are kept.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace campaignd::rules {

// One kind of thing the sanitiser took out and how often, for telling the author:
// what is "<script> element", "onclick attribute", "javascript: URL in href",
// "<marquee> tag (its content kept)", "unsafe CSS in a style attribute", ...
struct HtmlRemoval {
    std::string what;
    std::size_t count = 0;
    bool operator==(const HtmlRemoval&) const = default;
};

struct SanitizedHtml {
    std::string html;                   // as sanitizeHtml returns it
    std::vector<HtmlRemoval> removed;   // in the order first met; comments are not listed
};

// Returns the sanitised HTML, UTF-8: a fragment for a fragment (what was inside <head> and
// <body>, in order), a whole document with a DOCTYPE when the input had <html>, <head>,
// <body> or a DOCTYPE. Empty if nothing safe is left. Unsafe CSS declarations are removed
// from style attributes and <style> elements; comments (Outlook's conditional ones too) go.
// The output is checked: it is parsed and walked again, and must come out unchanged (a
// parser quirk that made a second pass find something would otherwise reach a mail client).
// Throws Error(InvalidArgument) if the input is not UTF-8 or contains a NUL byte, or if its
// output does not settle.
std::string sanitizeHtml(std::string_view html);

// The same, with what was removed.
SanitizedHtml sanitizeHtmlReporting(std::string_view html);

}  // namespace campaignd::rules
