// personalisation.cpp: checks a campaign's template. A short scanner over the tags (default
// delimiters only, since delimiter changes are refused) names what campaignd does not allow;
// kainjow's own parser then judges the structure (unclosed tags, unbalanced sections), so a
// template that passes here is one the renderer accepts.
#include "mail/personalisation.h"

#include <kainjow/mustache.hpp>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "core/text.h"

namespace campaignd::mail {
namespace {

constexpr std::array<std::string_view, 4> kVariables = {"name", "email", "unsubscribe_url", "view_url"};

std::string knownList() {
    std::string out;
    for (std::string_view v : kVariables) {
        if (!out.empty()) out += ", ";
        out += "{{";
        out += v;
        out += "}}";
    }
    return out;
}

std::string shown(std::string_view tag) {
    std::string out;
    for (char c : tag.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    if (tag.size() > 60) out += "...";
    return out;
}

// The attributes whose value is a URL, as browsers and mail clients read them.
constexpr std::array<std::string_view, 7> kUrlAttributes = {"href", "src", "background", "cite",
                                                             "action", "formaction", "poster"};
// The variables campaignd fills with URLs it builds itself.
constexpr std::array<std::string_view, 2> kUrlVariables = {"unsubscribe_url", "view_url"};

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

std::string lowerAscii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string textOf(const xmlChar* value) { return value ? reinterpret_cast<const char*>(value) : ""; }

// The problem with one element's attributes and (for <style>) its text, or "".
std::string checkElement(xmlNodePtr element) {
    const std::string name = lowerAscii(textOf(element->name));
    for (xmlAttrPtr attr = element->properties; attr; attr = attr->next) {
        const std::string attribute = lowerAscii(textOf(attr->name));
        xmlChar* raw = xmlNodeListGetString(element->doc, attr->children, 1);
        const std::string value = textOf(raw);
        xmlFree(raw);
        const std::string_view trimmed = text::trimWhitespace(value);
        const std::string where = "<" + name + " " + attribute + "=\"" + shown(value) + "\">";
        if (attribute == "style" && value.find("{{") != std::string::npos)
            return where + ": a variable cannot stand in a style attribute (its value would be CSS)";
        if (std::find(kUrlAttributes.begin(), kUrlAttributes.end(), attribute) == kUrlAttributes.end()) continue;
        if (!trimmed.starts_with("{{")) {
            // What the URL has before its first variable must fix the scheme already (it holds
            // the scheme's ':', or a '/', '?' or '#' of a relative URL): after "j", a value
            // "avascript:..." would make the link run code.
            // Slashes alone fix nothing either: after "/", a value "/evil.example" makes the
            // protocol-relative "//evil.example" (browsers read '\\' as '/').
            const std::size_t first = trimmed.find("{{");
            const std::string_view start = first == std::string_view::npos ? trimmed : trimmed.substr(0, first);
            if (first != std::string_view::npos &&
                (start.find_first_of(":/?#") == std::string_view::npos || start.find_first_not_of("/\\") == std::string_view::npos))
                return where + ": a variable cannot stand in a URL's scheme or host (after \"" + shown(start) +
                       "\" a recipient's value would choose it: \"javascript:\" too); write the URL's start "
                       "up to its path yourself (https://example.org/?who={{email}})";
            continue;
        }
        const std::size_t end = trimmed.find("}}");
        const std::string_view variable = text::trimWhitespace(trimmed.substr(2, end == std::string_view::npos ? 0 : end - 2));
        if (std::find(kUrlVariables.begin(), kUrlVariables.end(), variable) == kUrlVariables.end())
            return where + ": a variable cannot start a URL (a recipient's value would choose where the link "
                           "goes); only {{unsubscribe_url}} and {{view_url}} may, or write the URL's start "
                           "yourself (https://example.org/?who={{email}})";
    }
    if (name == "style") {
        xmlChar* css = xmlNodeGetContent(element);
        const bool hasVariable = textOf(css).find("{{") != std::string::npos;
        xmlFree(css);
        if (hasVariable) return "<style>: a variable cannot stand in a style element (its value would be CSS)";
    }
    return {};
}

std::string checkElements(xmlNodePtr node) {
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            if (auto problem = checkElement(node); !problem.empty()) return problem;
        }
        if (auto problem = checkElements(node->children); !problem.empty()) return problem;
    }
    return {};
}

}  // namespace

std::span<const std::string_view> templateVariables() { return kVariables; }

std::string validateTemplate(std::string_view text) {
    std::size_t pos = 0;
    while ((pos = text.find("{{", pos)) != std::string_view::npos) {
        const std::string line = "line " + std::to_string(1 + std::count(text.begin(), text.begin() + pos, '\n'));
        if (pos + 2 < text.size() && text[pos + 2] == '{')
            return line + ": " + shown(text.substr(pos, 20)) +
                   ": triple mustaches {{{...}}} are not allowed; write {{name}}: values are "
                   "escaped as each part needs";
        const std::size_t end = text.find("}}", pos + 2);
        if (end == std::string_view::npos) return line + ": a tag opened with {{ is never closed with }}";
        const std::string_view whole = text.substr(pos, end + 2 - pos);
        std::string_view body = text::trimWhitespace(text.substr(pos + 2, end - pos - 2));
        pos = end + 2;
        if (body.empty()) return line + ": the empty tag {{}} is not allowed";
        const char kind = body.front();
        switch (kind) {
        case '!':
            continue;  // a comment
        case '&':
            return line + ": " + shown(whole) + ": unescaped tags {{&...}} are not allowed; write {{name}}";
        case '>':
            return line + ": " + shown(whole) + ": partials {{>...}} are not supported";
        case '=':
            return line + ": " + shown(whole) + ": changing the delimiters is not supported";
        case '#': case '^': case '/':
            body = text::trimWhitespace(body.substr(1));
            break;
        default:
            break;
        }
        if (std::find(kVariables.begin(), kVariables.end(), body) == kVariables.end())
            return line + ": " + shown(whole) + ": unknown variable \"" + shown(body) +
                   "\"; the known variables are " + knownList();
    }
    const kainjow::mustache::mustache parsed{std::string(text)};
    if (!parsed.is_valid()) return parsed.error_message();
    return {};
}

std::string validateHtmlTemplate(std::string_view html) {
    if (std::string problem = validateTemplate(html); !problem.empty()) return problem;
    if (html.find("{{") == std::string_view::npos || html.size() > static_cast<std::size_t>(INT32_MAX)) return {};
    const std::unique_ptr<xmlDoc, DocFree> doc(
        htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
                       HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
    if (!doc) return {};
    return checkElements(reinterpret_cast<xmlNodePtr>(doc.get())->children);
}

}  // namespace campaignd::mail
