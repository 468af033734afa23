// html_sanitizer.cpp: campaign HTML through libxml2's HTML parser and an allow-list walk.
// Promises: no element outside the allow-list survives (dangerous ones go with their
// contents, unknown ones are unwrapped so their text stays); no on* handler, no attribute
// outside the allow-list, no URL with a scheme outside http/https/mailto/tel/cid/ftp (plus
// data:image/ for <img src>, never SVG); no comment or processing instruction (conditional
// comments hide markup); no CSS that runs code or fetches (expression(), javascript:,
// vbscript:, -moz-binding, behavior, @import) in a style attribute or a <style> element.
//
// Returns: a fragment for a fragment (the kept children of <head> and <body>, in order), a
// whole document (with a DOCTYPE) when the input had <html>, <head>, <body> or a DOCTYPE.
// Output is UTF-8. Refuses invalid UTF-8 and NUL bytes with Error(InvalidArgument).
#include "rules/html_sanitizer.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "core/error.h"
#include "rules/validation.h"

namespace campaignd::rules {
namespace {

// Dropped together with everything inside them.
constexpr auto kDroppedWithContent = std::to_array<std::string_view>({
    "script", "noscript", "iframe", "frame", "frameset", "noframes", "object", "embed",
    "applet", "param", "form", "input", "button", "select", "option", "optgroup", "textarea",
    "base", "link", "svg", "math", "video", "audio", "source", "track", "canvas", "template",
    "xml", "bgsound", "portal", "dialog", "xmp",
});

// Void in browsers: nothing is ever inside them. libxml2 2.9 does not know all of them (it
// nests what follows an <embed> inside it), so when one is dropped its children stay.
constexpr auto kVoidElements = std::to_array<std::string_view>({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
});

// Kept, with their allowed attributes. Anything else is unwrapped (its children stay).
constexpr auto kAllowedElements = std::to_array<std::string_view>({
    "html", "head", "body", "title", "style", "meta",
    "div", "span", "p", "br", "hr", "center", "font",
    "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small", "big", "tt", "code",
    "pre", "kbd", "samp", "var", "blockquote", "q", "cite", "abbr", "acronym", "address",
    "del", "ins", "mark", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
    "img", "a", "section", "article", "header", "footer", "figure", "figcaption", "main", "wbr",
});

// Allowed on any kept element.
constexpr auto kGlobalAttributes = std::to_array<std::string_view>({
    "style", "class", "id", "title", "dir", "lang", "align", "valign", "width", "height",
    "bgcolor", "color", "border", "cellpadding", "cellspacing", "colspan", "rowspan", "face",
    "size", "alt", "nowrap", "scope", "headers", "summary", "role", "background", "hspace",
    "vspace", "bordercolor",
});

// Allowed on particular elements.
struct ElementAttribute {
    std::string_view element;
    std::string_view attribute;
};
constexpr std::array<ElementAttribute, 22> kElementAttributes{{
    {"a", "href"}, {"a", "name"}, {"a", "target"}, {"a", "rel"},
    {"img", "src"}, {"img", "usemap"},
    {"ol", "start"}, {"ol", "type"}, {"ol", "reversed"}, {"ul", "type"}, {"li", "value"},
    {"style", "type"}, {"style", "media"},
    {"meta", "charset"}, {"meta", "name"}, {"meta", "content"}, {"meta", "http-equiv"},
    {"table", "frame"}, {"table", "rules"}, {"col", "span"}, {"colgroup", "span"},
    {"br", "clear"},
}};

// Attributes holding a URL; their scheme is checked.
constexpr auto kUrlAttributes = std::to_array<std::string_view>({"href", "src", "background", "cite"});

// Schemes a link or an image may use. No scheme at all (a relative URL or "#anchor") is
// harmless in a mail and kept.
constexpr auto kAllowedSchemes = std::to_array<std::string_view>({"http", "https", "mailto", "tel", "cid", "ftp"});

// What one pass took out, counted by kind in the order first met.
class Removals {
public:
    void add(std::string what) {
        const auto it = std::find_if(list_.begin(), list_.end(), [&](const HtmlRemoval& r) { return r.what == what; });
        if (it != list_.end()) ++it->count;
        else list_.push_back({std::move(what), 1});
    }
    std::vector<HtmlRemoval> take() { return std::move(list_); }
    bool empty() const { return list_.empty(); }

private:
    std::vector<HtmlRemoval> list_;
};

// Found in normalised CSS (comments removed, escapes decoded, white space removed, lower
// case), each marks CSS that can run code or fetch something on its own.
constexpr auto kDangerousCss = std::to_array<std::string_view>({
    "expression(", "javascript:", "vbscript:", "-moz-binding", "behavior:", "behaviour:",
    "@import", "-o-link",
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

std::string_view nameOf(const xmlNode* n) {
    return n->name ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view();
}

std::string attributeValue(xmlNodePtr element, xmlAttrPtr attr) {
    xmlChar* v = xmlNodeListGetString(element->doc, attr->children, 1);
    std::string out = v ? reinterpret_cast<const char*>(v) : "";
    xmlFree(v);
    return out;
}

unsigned hexValue(char c) {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    return static_cast<unsigned>(c - 'A' + 10);
}

void appendUtf8(std::string& out, unsigned long cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes character references that are still in a value (the parser has decoded one
// level; a second level, "&amp;#106;", is decoded here too, so that the check sees the most
// a lenient client could make of it). Named references other than the few that matter are
// left as they are.
std::string decodeCharacterReferences(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] != '&') {
            out += s[i++];
            continue;
        }
        std::size_t j = i + 1;
        if (j < s.size() && s[j] == '#') {
            ++j;
            int base = 10;
            if (j < s.size() && (s[j] == 'x' || s[j] == 'X')) {
                base = 16;
                ++j;
            }
            std::size_t k = j;
            unsigned long cp = 0;
            while (k < s.size() && std::isxdigit(static_cast<unsigned char>(s[k])) &&
                   (base == 16 || std::isdigit(static_cast<unsigned char>(s[k])))) {
                cp = std::min<unsigned long>(cp * base + hexValue(s[k]), 0x110000);
                ++k;
            }
            if (k == j) {
                out += s[i++];
                continue;
            }
            if (k < s.size() && s[k] == ';') ++k;
            appendUtf8(out, cp);
            i = k;
            continue;
        }
        static constexpr std::array<std::pair<std::string_view, char>, 6> kNamed{{
            {"colon;", ':'}, {"tab;", '\t'}, {"newline;", '\n'}, {"amp;", '&'}, {"lpar;", '('}, {"sol;", '/'},
        }};
        bool matched = false;
        for (const auto& [name, c] : kNamed) {
            if (s.substr(j, name.size()) == name) {
                out += c;
                i = j + name.size();
                matched = true;
                break;
            }
        }
        if (!matched) out += s[i++];
    }
    return out;
}

// Whether a URL may stay on `element`'s `attribute`.
bool urlAllowed(std::string_view element, std::string_view attribute, const std::string& value) {
    std::string decoded = decodeCharacterReferences(decodeCharacterReferences(value));
    // Browsers ignore white space and control characters inside a scheme ("jav\tascript:").
    std::string compact;
    for (unsigned char c : decoded)
        if (c > 0x20 && c != 0x7F) compact += static_cast<char>(c);
    compact = lower(compact);
    const std::size_t colon = compact.find(':');
    const std::size_t stop = compact.find_first_of("/?#");
    if (colon == std::string::npos || (stop != std::string::npos && stop < colon)) return true;  // relative
    const std::string scheme = compact.substr(0, colon);
    if (contains(kAllowedSchemes, scheme)) return true;
    if (scheme == "data" && element == "img" && attribute == "src") {
        return compact.rfind("data:image/", 0) == 0 && compact.rfind("data:image/svg", 0) != 0;
    }
    return false;
}

// CSS reduced to what an old browser would have read: comments removed, escapes decoded,
// full-width forms folded to ASCII, white space and controls removed, lower case.
std::string normalizeCss(std::string_view css) {
    std::string noComments;
    for (std::size_t i = 0; i < css.size();) {
        if (css.compare(i, 2, "/*") == 0) {
            const std::size_t end = css.find("*/", i + 2);
            if (end == std::string_view::npos) break;
            i = end + 2;
        } else {
            noComments += css[i++];
        }
    }
    std::string decoded;
    for (std::size_t i = 0; i < noComments.size();) {
        if (noComments[i] != '\\') {
            decoded += noComments[i++];
            continue;
        }
        ++i;
        std::size_t k = i;
        unsigned long cp = 0;
        while (k < noComments.size() && k - i < 6 && std::isxdigit(static_cast<unsigned char>(noComments[k]))) {
            cp = cp * 16 + hexValue(noComments[k]);
            ++k;
        }
        if (k > i) {
            appendUtf8(decoded, cp);
            if (k < noComments.size() && std::isspace(static_cast<unsigned char>(noComments[k]))) ++k;
            i = k;
        } else if (i < noComments.size()) {
            if (noComments[i] != '\n') decoded += noComments[i];
            ++i;
        }
    }
    std::string out;
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(decoded[i]);
        // U+FF01..U+FF5E (EF BC 81 .. EF BD 9E): full-width ASCII, which old IE folded.
        if (c == 0xEF && i + 2 < decoded.size()) {
            const unsigned char c1 = static_cast<unsigned char>(decoded[i + 1]);
            const unsigned char c2 = static_cast<unsigned char>(decoded[i + 2]);
            const unsigned cp = ((c & 0x0F) << 12) | ((c1 & 0x3F) << 6) | (c2 & 0x3F);
            if (cp >= 0xFF01 && cp <= 0xFF5E) {
                out += static_cast<char>(cp - 0xFF01 + 0x21);
                i += 2;
                continue;
            }
        }
        if (c <= 0x20 || c == 0x7F) continue;
        out += static_cast<char>(c);
    }
    return lower(out);
}

bool cssDangerous(std::string_view css) {
    const std::string n = normalizeCss(css);
    for (std::string_view marker : kDangerousCss)
        if (n.find(marker) != std::string::npos) return true;
    return false;
}

// Removes the declarations and at-rules that carry dangerous CSS, keeping the rest. The CSS is
// cut at ';', '{' and '}' outside strings and comments; a dangerous piece is dropped with its
// terminator kept. If what is left is still dangerous (a piece boundary hid something), the
// whole sheet goes: safety over layout.
std::string neutralizeCss(std::string_view css) {
    if (!cssDangerous(css)) return std::string(css);
    std::string out;
    std::size_t start = 0;
    char quote = 0;
    for (std::size_t i = 0; i <= css.size(); ++i) {
        if (i < css.size()) {
            const char c = css[i];
            if (quote) {
                if (c == '\\') ++i;
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '"' || c == '\'') {
                quote = c;
                continue;
            }
            if (c == '/' && i + 1 < css.size() && css[i + 1] == '*') {
                const std::size_t end = css.find("*/", i + 2);
                i = end == std::string_view::npos ? css.size() - 1 : end + 1;
                continue;
            }
            if (c == '\\') {
                ++i;
                continue;
            }
            if (c != ';' && c != '{' && c != '}') continue;
        }
        const std::size_t end = std::min(i, css.size());
        const std::string_view piece = css.substr(start, end - start);
        if (!cssDangerous(piece)) out.append(piece);
        if (i < css.size()) out += css[i];
        start = i + 1;
    }
    if (cssDangerous(out)) return {};
    return out;
}

void unlinkAndFree(xmlNodePtr n) {
    xmlUnlinkNode(n);
    xmlFreeNode(n);
}

// "<![if !mso]>" and "<![endif]>" (downlevel-revealed conditional comments) come out of the
// parser as text; they are markup for Outlook, not words for the reader.
bool isConditionalMarker(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    const std::string t = lower(text);
    return t.size() >= 5 && t.rfind("<![", 0) == 0 && t.compare(t.size() - 2, 2, "]>") == 0 &&
           (t.compare(3, 2, "if") == 0 || t.compare(3, 5, "endif") == 0);
}

// The scheme of a refused URL, as a person would name it ("javascript"), cut short.
std::string schemeOf(const std::string& value) {
    std::string scheme;
    for (const char c : decodeCharacterReferences(value)) {
        if (c == ':') return scheme;
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') {
            if (scheme.size() < 20) scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (static_cast<unsigned char>(c) > 0x20) {
            break;
        }
    }
    return {};
}

void cleanAttributes(xmlNodePtr element, std::string_view name, Removals& removed) {
    for (xmlAttrPtr attr = element->properties; attr;) {
        xmlAttrPtr next = attr->next;
        const std::string attrName = lower(reinterpret_cast<const char*>(attr->name));
        bool keep = !attr->ns && attrName.rfind("on", 0) != 0;  // no event handlers, no xlink:
        std::string why;  // what the author is told, when not kept
        if (keep) {
            keep = contains(kGlobalAttributes, attrName) || attrName.rfind("aria-", 0) == 0 ||
                   std::any_of(kElementAttributes.begin(), kElementAttributes.end(),
                               [&](const ElementAttribute& ea) {
                                   return ea.element == name && ea.attribute == attrName;
                               });
        }
        if (keep && contains(kUrlAttributes, attrName)) {
            const std::string url = attributeValue(element, attr);
            keep = urlAllowed(name, attrName, url);
            if (!keep) {
                const std::string scheme = schemeOf(url);
                why = (scheme.empty() ? "URL" : scheme + ": URL") + " in " + attrName;
            }
        }
        if (keep && attrName == "style") {
            const std::string css = attributeValue(element, attr);
            const std::string safe = neutralizeCss(css);
            if (safe.empty() && css.find_first_not_of(" \t\r\n\f;") == std::string::npos) {
                keep = false;  // an empty style: nothing the author wrote is lost
                why = "-";
            } else if (safe.empty()) {
                keep = false;
                why = "unsafe CSS in a style attribute";
            } else if (safe != css) {
                removed.add("unsafe CSS in a style attribute");
                xmlSetProp(element, attr->name, reinterpret_cast<const xmlChar*>(safe.c_str()));
            }
        }
        if (!keep) {
            if (why.empty()) why = attrName + " attribute";
            if (why != "-") removed.add(why);
            xmlRemoveProp(attr);
        }
        attr = next;
    }
}

// A <meta> stays only if it does not act: no refresh, no cookie, no default style; and none
// declares a charset (charset=, or http-equiv Content-Type): the message is UTF-8 and says so
// itself, and a declared UTF-7 would make a mail client read "+ADw-script+AD4-" as markup.
bool metaAllowed(xmlNodePtr element) {
    if (xmlHasProp(element, reinterpret_cast<const xmlChar*>("charset"))) return false;
    xmlChar* v = xmlGetProp(element, reinterpret_cast<const xmlChar*>("http-equiv"));
    if (!v) return true;
    const std::string equiv = lower(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return equiv == "x-ua-compatible";
}

// The input with every control character but tab, line feed, form feed and carriage return
// (C0, DEL, and the C1 range U+0080-U+009F) replaced by a space. libxml2's parser keeps them
// and its serialiser drops them, so "expr\x01ession(" passed the CSS check as one word and
// came out as another; with none left, what is checked is what is written. `html` is UTF-8.
std::string withoutControls(std::string_view html) {
    std::string out(html);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7F) {
            out[i] = ' ';
        } else if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(out[i + 1]) <= 0x9F) {
            out.replace(i, 2, " ");
        }
    }
    return out;
}

void sanitizeChildren(xmlNodePtr parent, Removals& removed);

// Sanitises n's children and moves them before n, in order.
void hoistChildren(xmlNodePtr n, Removals& removed) {
    sanitizeChildren(n, removed);
    while (n->children) {
        xmlNodePtr child = n->children;
        xmlUnlinkNode(child);
        xmlAddPrevSibling(n, child);
    }
}

void sanitizeStyleElement(xmlNodePtr style, Removals& removed) {
    std::string css;
    for (xmlNodePtr c = style->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            css += reinterpret_cast<const char*>(c->content);
    std::string safe = neutralizeCss(css);
    // No '<' is left in style text: written as the CSS escape "\3C ", which means the same to
    // CSS. Parsers disagree about where raw text ends (libxml2 drops characters XML does not
    // allow, so "<\x01/style>" became an end tag; it also builds elements from "<a ...>" in a
    // <style> outside <head>): with no '<' there, no parser can find markup inside (both found
    // by the fuzz target).
    if (safe != css) removed.add("unsafe CSS in <style>");
    for (auto at = safe.find('<'); at != std::string::npos; at = safe.find('<', at + 4))
        safe.replace(at, 1, "\\3C ");
    if (safe == css) {
        // Keep the nodes as the parser made them, minus anything that is not text.
        for (xmlNodePtr c = style->children; c;) {
            xmlNodePtr next = c->next;
            if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) unlinkAndFree(c);
            c = next;
        }
        return;
    }
    while (style->children) unlinkAndFree(style->children);
    // A CDATA node is what the HTML serialiser writes raw inside <style>; the text holds no
    // '<' (see above).
    xmlAddChild(style, xmlNewCDataBlock(style->doc, reinterpret_cast<const xmlChar*>(safe.c_str()),
                                        static_cast<int>(safe.size())));
}

// A browser reads <title> as plain text up to "</title>", but libxml2 builds elements inside
// it from broken markup and writes them back as tags; keep only its text, so that what a
// browser and what the sanitiser see are the same (found by the fuzz target).
void flattenToText(xmlNodePtr element) {
    xmlChar* text = xmlNodeGetContent(element);
    while (element->children) unlinkAndFree(element->children);
    if (text) {
        xmlAddChild(element, xmlNewText(text));
        xmlFree(text);
    }
}

void sanitizeNode(xmlNodePtr n, Removals& removed) {
    switch (n->type) {
    case XML_TEXT_NODE:
        if (n->content && isConditionalMarker(reinterpret_cast<const char*>(n->content))) unlinkAndFree(n);
        return;
    case XML_ELEMENT_NODE: {
        const std::string name = lower(nameOf(n));
        const bool foreign = name.rfind("svg:", 0) == 0 || name.rfind("math:", 0) == 0;
        if (foreign || contains(kDroppedWithContent, name) || (name == "meta" && !metaAllowed(n))) {
            removed.add("<" + (foreign ? name.substr(0, name.find(':')) : name) + "> element");
            if (contains(kVoidElements, name)) hoistChildren(n, removed);
            unlinkAndFree(n);
            return;
        }
        if (contains(kAllowedElements, name)) {
            cleanAttributes(n, name, removed);
            if (name == "style") sanitizeStyleElement(n, removed);
            else if (name == "title") flattenToText(n);
            else sanitizeChildren(n, removed);
            return;
        }
        // Unknown: clean what is inside, then put it in the element's place.
        removed.add("<" + name + "> tag (its content kept)");
        hoistChildren(n, removed);
        unlinkAndFree(n);
        return;
    }
    case XML_DTD_NODE:
        return;
    default:  // comments, processing instructions, CDATA outside <style>, entity references
        unlinkAndFree(n);
        return;
    }
}

void sanitizeChildren(xmlNodePtr parent, Removals& removed) {
    for (xmlNodePtr c = parent->children; c;) {
        xmlNodePtr next = c->next;
        sanitizeNode(c, removed);
        c = next;
    }
}

// Whether the input names a document element ("<head" but not "<header").
bool looksLikeDocument(std::string_view html) {
    const std::string l = lower(html);
    if (l.find("<!doctype") != std::string::npos) return true;
    for (std::string_view tag : {"<html", "<head", "<body"}) {
        for (std::size_t at = l.find(tag); at != std::string::npos; at = l.find(tag, at + 1)) {
            const std::size_t after = at + tag.size();
            if (after == l.size() || l[after] == '>' || l[after] == '/' ||
                std::isspace(static_cast<unsigned char>(l[after])))
                return true;
        }
    }
    return false;
}

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct BufferClose {
    void operator()(xmlOutputBuffer* b) const { xmlOutputBufferClose(b); }
};

// libxml2's serialiser %-escapes URL attributes (href, src, ...), which turns a template tag
// such as {{unsubscribe_url}} into %7B%7Bunsubscribe_url%7D%7D. Put back every escaped tag
// whose name (after decoding %20) is only letters, digits, '_' and spaces: it can only become
// a template variable again, never markup.
std::string restoreTemplateTags(std::string html) {
    const auto hexAt = [&](std::size_t at, std::string_view code) {
        return at + 3 <= html.size() && html[at] == '%' &&
               std::toupper(static_cast<unsigned char>(html[at + 1])) == code[0] &&
               std::toupper(static_cast<unsigned char>(html[at + 2])) == code[1];
    };
    std::string out;
    std::size_t from = 0;
    for (std::size_t at = 0; at + 12 <= html.size(); ++at) {
        if (!(hexAt(at, "7B") && hexAt(at + 3, "7B"))) continue;
        std::string name;
        std::size_t i = at + 6;
        bool ok = false;
        while (i < html.size()) {
            if (hexAt(i, "7D") && hexAt(i + 3, "7D")) {
                ok = !name.empty();
                break;
            }
            if (hexAt(i, "20")) {
                name += ' ';
                i += 3;
            } else if (std::isalnum(static_cast<unsigned char>(html[i])) || html[i] == '_') {
                name += html[i++];
            } else {
                break;
            }
        }
        if (!ok) continue;
        out.append(html, from, at - from);
        out += "{{" + name + "}}";
        from = i + 6;
        at = from - 1;
    }
    if (from == 0) return html;
    out.append(html, from);
    return out;
}

// One parse, walk and serialisation.
std::string sanitizeOnce(std::string_view html, Removals& removed) {
    const std::string input = withoutControls(html);
    std::unique_ptr<xmlDoc, DocFree> doc(
        htmlReadMemory(input.data(), static_cast<int>(input.size()), nullptr, "UTF-8",
                       HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
    if (!doc) return {};  // nothing the parser could read: empty input or only white space
    sanitizeChildren(reinterpret_cast<xmlNodePtr>(doc.get()), removed);

    std::unique_ptr<xmlOutputBuffer, BufferClose> out(xmlAllocOutputBuffer(nullptr));
    if (!out) throw Error(ErrorCode::Failed, "out of memory while sanitising HTML");
    if (looksLikeDocument(html)) {
        // The document type is written anew as HTML5's: libxml2 copies a DOCTYPE's public and
        // system identifiers byte by byte and can cut a multi-byte character there (found by
        // the fuzz target), and no mail client needs more than "<!DOCTYPE html>".
        if (xmlDtdPtr dtd = xmlGetIntSubset(doc.get())) {
            xmlUnlinkNode(reinterpret_cast<xmlNodePtr>(dtd));
            xmlFreeDtd(dtd);
        }
        xmlCreateIntSubset(doc.get(), reinterpret_cast<const xmlChar*>("html"), nullptr, nullptr);
        htmlDocContentDumpFormatOutput(out.get(), doc.get(), "UTF-8", 0);
    } else {
        xmlNodePtr root = xmlDocGetRootElement(doc.get());
        for (xmlNodePtr part = root ? root->children : nullptr; part; part = part->next) {
            if (part->type != XML_ELEMENT_NODE) {
                htmlNodeDumpFormatOutput(out.get(), doc.get(), part, "UTF-8", 0);
                continue;
            }
            // Unwrap only the <head> and <body> the parser added around the fragment; an
            // element it put beside them (after "</body>") is written whole, tag and all, so
            // that raw text such as a <style>'s stays inside its element.
            const std::string name = lower(nameOf(part));
            if (name != "head" && name != "body") {
                htmlNodeDumpFormatOutput(out.get(), doc.get(), part, "UTF-8", 0);
                continue;
            }
            for (xmlNodePtr n = part->children; n; n = n->next)
                htmlNodeDumpFormatOutput(out.get(), doc.get(), n, "UTF-8", 0);
        }
    }
    xmlOutputBufferFlush(out.get());
    return restoreTemplateTags(std::string(reinterpret_cast<const char*>(xmlOutputBufferGetContent(out.get())),
                                           xmlOutputBufferGetSize(out.get())));
}

}  // namespace

SanitizedHtml sanitizeHtmlReporting(std::string_view html) {
    checkUtf8("HTML content", html);
    if (html.find('\0') != std::string_view::npos)
        throw Error(ErrorCode::InvalidArgument, "HTML content contains a NUL character");
    if (html.size() > static_cast<std::size_t>(INT32_MAX))
        throw Error(ErrorCode::InvalidArgument, "HTML content is too large");

    Removals removed;
    SanitizedHtml result{sanitizeOnce(html, removed), {}};
    // The output is read again as a mail client would read it: a second pass must find
    // nothing to remove. If it does (a parser quirk turned the output into something else),
    // what it leaves is used, and it must settle within a few passes.
    constexpr int kMaxPasses = 4;
    for (int pass = 2;; ++pass) {
        Removals again;
        std::string next = sanitizeOnce(result.html, again);
        if (again.empty() && next == result.html) break;
        if (pass == kMaxPasses)
            throw Error(ErrorCode::InvalidArgument,
                        "HTML content could not be made safe: its sanitised form changes each time it is read");
        for (HtmlRemoval& r : again.take())
            for (std::size_t i = 0; i < r.count; ++i) removed.add(r.what);
        result.html = std::move(next);
    }
    result.removed = removed.take();
    return result;
}

std::string sanitizeHtml(std::string_view html) { return sanitizeHtmlReporting(html).html; }

}  // namespace campaignd::rules
