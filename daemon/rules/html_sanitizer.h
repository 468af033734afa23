// html_sanitizer.h: makes campaign HTML safe to store and to send. The input is parsed with
// libxml2's HTML parser (never with regular expressions), then only an allow-list of
// elements and attributes survives: scripts, event handlers, frames, objects, forms and
// javascript:/vbscript:/data: URLs (other than data:image) are removed. Text and the
// structure of ordinary e-mail HTML (tables, inline styles, images, links) are kept.
#pragma once

#include <string>
#include <string_view>

namespace campaignd::rules {

// Returns the sanitised HTML, UTF-8: a fragment for a fragment (what was inside <head> and
// <body>, in order), a whole document with a DOCTYPE when the input had <html>, <head>,
// <body> or a DOCTYPE. Empty if nothing safe is left. Unsafe CSS declarations are removed
// from style attributes and <style> elements; comments (Outlook's conditional ones too) go.
// Throws Error(InvalidArgument) if the input is not UTF-8 or contains a NUL byte.
std::string sanitizeHtml(std::string_view html);

}  // namespace campaignd::rules
