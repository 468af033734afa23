// html_sanitizer.cpp: fuzzes sanitizeHtml (daemon/rules/html_sanitizer.h). Refusal is
// Error(InvalidArgument), and only for input that is not UTF-8 or holds a NUL. The output must
// be UTF-8 that sanitizeHtml accepts again, and both it and the output of a second pass are
// re-parsed with libxml2 and walked: no dangerous element (script, frames, objects, forms, SVG,
// ...), no comment or processing instruction, no acting <meta>, no on* handler, no URL whose
// scheme a browser would read as anything but http(s), mailto, tel, cid, ftp (or a non-SVG
// data:image on <img src>), and no CSS that plainly runs code. Each check is one a browser
// would agree with and that the sanitiser promises, so a report is a real escape, not a quirk.
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "fuzz_check.h"
#include "rules/html_sanitizer.h"

namespace {

using campaignd::fuzz::check;
using campaignd::fuzz::isValidUtf8;

constexpr auto kForbiddenElements = std::to_array<std::string_view>({
    "script", "noscript", "iframe", "frame", "frameset", "noframes", "object", "embed", "applet",
    "param", "form", "input", "button", "select", "option", "textarea", "base", "link", "svg",
    "math", "template", "xml", "bgsound", "portal", "xmp", "plaintext", "noembed", "isindex",
    "keygen", "video", "audio", "source", "track", "canvas", "dialog",
});

// Attributes that act or load on their own; none is on the sanitiser's allow-list.
constexpr auto kForbiddenAttributes = std::to_array<std::string_view>({
    "srcdoc", "formaction", "action", "xlink:href", "dynsrc", "lowsrc", "data", "codebase",
    "poster", "srcset", "ping",
});

// Attributes whose value a browser resolves as a URL.
constexpr auto kUrlAttributes = std::to_array<std::string_view>({
    "href", "src", "background", "cite", "action", "formaction", "poster", "longdesc", "lowsrc",
    "dynsrc", "xlink:href", "codebase", "data",
});

constexpr auto kAllowedSchemes = std::to_array<std::string_view>({
    "http", "https", "mailto", "tel", "cid", "ftp",
});

// Markers of CSS that runs code or fetches on its own.
constexpr auto kDangerousCss = std::to_array<std::string_view>({
    "expression(", "javascript:", "vbscript:", "-moz-binding", "behavior:", "behaviour:",
    "@import",
});

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The scheme a browser reads in `url` (WHATWG URL: leading C0 controls and spaces stripped,
// tab and newlines removed anywhere, then ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":"), lower
// case; empty for a relative URL.
std::string browserScheme(std::string_view url) {
    std::string s;
    bool leading = true;
    for (unsigned char c : url) {
        if (leading && c <= 0x20) continue;
        leading = false;
        if (c == '\t' || c == '\n' || c == '\r') continue;
        s += static_cast<char>(c);
    }
    if (s.empty() || !isAlpha(s[0])) return {};
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ':') return lower(s.substr(0, i));
        if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') return {};
    }
    return {};
}

void checkUrl(std::string_view element, std::string_view attribute, std::string_view value,
              std::string_view output) {
    const std::string scheme = browserScheme(value);
    if (scheme.empty() || contains(kAllowedSchemes, scheme)) return;
    if (scheme == "data" && element == "img" && attribute == "src") {
        std::string compact;
        for (unsigned char c : value)
            if (c > 0x20 && c != 0x7F) compact += static_cast<char>(c);
        compact = lower(compact);
        check(compact.rfind("data:image/svg", 0) != 0, "no SVG data: URL survives in <img src>",
              output);
        return;
    }
    check(false, ("a URL's scheme is allowed (found \"" + scheme + ":\" in <" +
                  std::string(element) + " " + std::string(attribute) + ">)").c_str(),
          output);
}

// Plainly dangerous CSS: only checked where the text has no comment and no escape, since
// decoding those is the sanitiser's job and a second, different decoder would be guessing.
void checkCss(std::string_view css, std::string_view output) {
    if (css.find('\\') != std::string_view::npos || css.find("/*") != std::string_view::npos) return;
    std::string compact;
    for (unsigned char c : css)
        if (c > 0x20 && c != 0x7F) compact += static_cast<char>(c);
    compact = lower(compact);
    for (std::string_view marker : kDangerousCss)
        check(compact.find(marker) == std::string::npos,
              ("no CSS that runs code or fetches survives (found \"" + std::string(marker) +
               "\")").c_str(),
              output);
}

std::string attributeValue(xmlNodePtr element, xmlAttrPtr attr) {
    xmlChar* v = xmlNodeListGetString(element->doc, attr->children, 1);
    std::string out = v ? reinterpret_cast<const char*>(v) : "";
    xmlFree(v);
    return out;
}

void walk(xmlNodePtr node, std::string_view output) {
    for (xmlNodePtr n = node; n; n = n->next) {
        switch (n->type) {
        case XML_COMMENT_NODE:
        case XML_PI_NODE:
            check(false, "no comment or processing instruction survives", output);
            break;
        case XML_ELEMENT_NODE: {
            const std::string name = lower(reinterpret_cast<const char*>(n->name));
            check(!contains(kForbiddenElements, name) && name.find(':') == std::string::npos,
                  ("no dangerous element survives (found <" + name + ">)").c_str(), output);
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                const std::string attr = lower(reinterpret_cast<const char*>(a->name));
                check(attr.rfind("on", 0) != 0,
                      ("no event handler survives (found " + attr + "=)").c_str(), output);
                check(!contains(kForbiddenAttributes, attr),
                      ("no acting attribute survives (found " + attr + "=)").c_str(), output);
                const std::string value = attributeValue(n, a);
                if (contains(kUrlAttributes, attr)) checkUrl(name, attr, value, output);
                if (attr == "style") checkCss(value, output);
                if (name == "meta" && attr == "http-equiv") {
                    const std::string equiv = lower(value);
                    check(equiv == "content-type" || equiv == "x-ua-compatible",
                          ("no acting <meta http-equiv> survives (found " + equiv + ")").c_str(),
                          output);
                }
            }
            if (name == "style") {
                std::string css;
                for (xmlNodePtr c = n->children; c; c = c->next)
                    if (c->content) css += reinterpret_cast<const char*>(c->content);
                checkCss(css, output);
            }
            walk(n->children, output);
            break;
        }
        default:
            walk(n->children, output);
            break;
        }
    }
}

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

// Re-parses sanitised `output` as a browser-like reader would and walks every node.
void checkSafe(const std::string& output) {
    check(isValidUtf8(output), "the output is valid UTF-8", output);
    check(output.find('\0') == std::string::npos, "the output holds no NUL", output);
    if (output.empty()) return;
    std::unique_ptr<xmlDoc, DocFree> doc(
        htmlReadMemory(output.data(), static_cast<int>(output.size()), nullptr, "UTF-8",
                       HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
    if (doc) walk(reinterpret_cast<xmlNodePtr>(doc.get())->children, output);
}

std::string sanitizeOrNull(std::string_view html, bool& refused) {
    refused = false;
    try {
        return campaignd::rules::sanitizeHtml(html);
    } catch (const campaignd::Error& e) {
        check(e.code() == campaignd::ErrorCode::InvalidArgument, "refusals are InvalidArgument",
              e.what());
        refused = true;
        return {};
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    xmlInitParser();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view html(reinterpret_cast<const char*>(data), size);
    bool refused = false;
    const std::string once = sanitizeOrNull(html, refused);
    check(refused == (!isValidUtf8(html) || html.find('\0') != std::string_view::npos),
          "exactly invalid UTF-8 and NUL bytes are refused", html);
    if (refused) return 0;
    checkSafe(once);
    const std::string twice = sanitizeOrNull(once, refused);
    check(!refused, "the output is accepted again", once);
    checkSafe(twice);
    return 0;
}
