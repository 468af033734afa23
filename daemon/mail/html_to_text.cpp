// html_to_text.cpp: libxml2's HTML parser and a walk of the tree into a TextLayout, which
// collects inline text into a paragraph (white space collapsed) and writes it out wrapped,
// behind the current line prefix ("> " in a quotation, indentation in a list item, the bullet
// on an item's first line). Runs once per campaign, not per recipient.
#include "mail/html_to_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <vector>

namespace campaignd::mail {
namespace {

constexpr std::size_t kWrapColumn = 76;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::size_t codePoints(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

class TextLayout {
public:
    // Inline text: white space collapses into single spaces between words.
    void text(std::string_view s) {
        for (char c : s) {
            if (isSpace(c)) {
                space_ = space_ || !paragraph_.empty();
                continue;
            }
            if (space_) paragraph_ += ' ';
            space_ = false;
            paragraph_ += c;
        }
    }
    // Text inside <pre>: kept as it is, line by line.
    void preformatted(std::string_view s) {
        for (char c : s) {
            if (c == '\r') continue;
            if (c == '\n') {
                writeLine(paragraph_, true);
                paragraph_.clear();
            } else {
                paragraph_ += c;
            }
        }
    }
    // The end of a <pre>: its last line, as it is.
    void endPreformatted() {
        if (!paragraph_.empty()) writeLine(paragraph_, true);
        paragraph_.clear();
    }
    void lineBreak() {
        if (!paragraph_.empty()) {
            flush();
        } else if (!out_.empty()) {
            writeLine({}, true);
        }
    }
    // Ends the current line; with `blankLine`, the next text starts after an empty line.
    void block(bool blankLine) {
        flush();
        blank_ = blank_ || blankLine;
    }
    void pushPrefix(std::string prefix) { prefixes_.push_back(std::move(prefix)); }
    void popPrefix() {
        flush();
        prefixes_.pop_back();
        bullet_.clear();
    }
    void setBullet(std::string bullet) { bullet_ = std::move(bullet); }

    std::size_t paragraphSize() const { return paragraph_.size(); }
    std::size_t flushes() const { return flushes_; }
    std::string_view paragraphSince(std::size_t offset) const {
        return std::string_view(paragraph_).substr(std::min(offset, paragraph_.size()));
    }
    // Appends a token (a "<url>") to the paragraph as its own word.
    void word(std::string_view w) {
        if (!paragraph_.empty()) paragraph_ += ' ';
        paragraph_ += w;
        space_ = false;
    }

    std::string finish() {
        flush();
        // U+00A0 (&nbsp;) reads as a space in text; it was kept out of wrapping until now.
        std::string result;
        result.reserve(out_.size());
        for (std::size_t i = 0; i < out_.size(); ++i) {
            if (out_.compare(i, 2, "\xC2\xA0") == 0) {
                result += ' ';
                ++i;
            } else {
                result += out_[i];
            }
        }
        // Trailing spaces on each line go; at most one empty line in a row; one final "\n".
        std::string tidy;
        std::size_t emptyRun = 0;
        std::size_t start = 0;
        while (start < result.size()) {
            std::size_t end = result.find('\n', start);
            if (end == std::string::npos) end = result.size();
            std::string_view line = std::string_view(result).substr(start, end - start);
            while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
            start = end + 1;
            if (line.empty() || line == ">") {
                if (++emptyRun > 1 || tidy.empty()) continue;
            } else {
                emptyRun = 0;
            }
            tidy += line;
            tidy += '\n';
        }
        while (tidy.size() >= 2 && tidy[tidy.size() - 2] == '\n') tidy.pop_back();
        return tidy;
    }

private:
    std::string prefix(bool firstLine) const {
        std::string p;
        for (std::size_t i = 0; i < prefixes_.size(); ++i) {
            if (firstLine && !bullet_.empty() && i + 1 == prefixes_.size()) p += bullet_;
            else p += prefixes_[i];
        }
        return p;
    }

    void writeLine(std::string_view content, bool firstLine) {
        if (blank_ && !out_.empty()) {
            std::string p = prefix(false);
            while (!p.empty() && p.back() == ' ') p.pop_back();
            out_ += p;
            out_ += '\n';
        }
        blank_ = false;
        out_ += prefix(firstLine);
        if (firstLine) bullet_.clear();
        out_ += content;
        out_ += '\n';
    }

    // Writes the paragraph wrapped at kWrapColumn between words; a word longer than a line
    // (a URL) stays whole.
    void flush() {
        space_ = false;
        if (paragraph_.empty()) return;
        ++flushes_;
        bool first = true;
        std::string line;
        std::size_t width = codePoints(prefix(true));
        std::size_t pos = 0;
        while (pos < paragraph_.size()) {
            std::size_t end = paragraph_.find(' ', pos);
            if (end == std::string::npos) end = paragraph_.size();
            const std::string_view w = std::string_view(paragraph_).substr(pos, end - pos);
            const std::size_t ww = codePoints(w);
            if (!line.empty() && width + 1 + ww > kWrapColumn) {
                writeLine(line, first);
                first = false;
                line.clear();
                width = codePoints(prefix(false));
            }
            if (!line.empty()) {
                line += ' ';
                ++width;
            }
            line += w;
            width += ww;
            pos = end + 1;
        }
        writeLine(line, first);
        paragraph_.clear();
    }

    std::string out_;
    std::string paragraph_;
    bool space_ = false;
    bool blank_ = false;
    std::vector<std::string> prefixes_;
    std::string bullet_;
    std::size_t flushes_ = 0;
};

std::string_view nameOf(const xmlNode* node) { return reinterpret_cast<const char*>(node->name); }

std::string attribute(const xmlNode* node, const char* name) {
    xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (!value) return {};
    std::string out(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return out;
}

bool isAny(std::string_view name, std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

bool hiddenByStyle(const xmlNode* node) {
    std::string style;
    for (char c : lower(attribute(node, "style")))
        if (!isSpace(c)) style += c;
    return style.find("display:none") != std::string::npos;
}

// "https://example.org/" and "example.org", "mailto:a@b" and "a@b" say the same to a reader.
std::string comparableUrl(std::string_view url) {
    std::string u = lower(trim(url));
    for (std::string_view scheme : {"mailto:", "tel:", "https://", "http://"}) {
        if (u.rfind(scheme, 0) == 0) {
            u.erase(0, scheme.size());
            break;
        }
    }
    if (u.rfind("www.", 0) == 0) u.erase(0, 4);
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
}

class Walker {
public:
    explicit Walker(TextLayout& layout) : layout_(layout) {}

    void children(const xmlNode* node) {
        for (const xmlNode* child = node->children; child; child = child->next) visit(child);
    }

private:
    struct List {
        bool ordered;
        long next;
    };

    void visit(const xmlNode* node) {
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            const std::string_view content =
                node->content ? reinterpret_cast<const char*>(node->content) : "";
            if (pre_ > 0) layout_.preformatted(content);
            else layout_.text(content);
            return;
        }
        if (node->type != XML_ELEMENT_NODE) {
            if (node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE) children(node);
            return;
        }
        const std::string_view name = nameOf(node);
        if (isAny(name, {"head", "title", "style", "script", "noscript", "template", "meta", "link"}) ||
            hiddenByStyle(node))
            return;
        if (name == "br") {
            layout_.lineBreak();
        } else if (name == "hr") {
            layout_.block(true);
            layout_.text("----------------------------------------");
            layout_.block(true);
        } else if (name == "img") {
            layout_.text(" ");
            layout_.text(attribute(node, "alt"));
            layout_.text(" ");
        } else if (name == "a") {
            link(node);
        } else if (name == "ul" || name == "ol") {
            const bool nested = !lists_.empty();
            layout_.block(!nested);
            long start = 1;
            if (name == "ol") {
                const std::string s = attribute(node, "start");
                char* end = nullptr;
                const long v = s.empty() ? 1 : std::strtol(s.c_str(), &end, 10);
                if (end && *end == '\0' && v > LONG_MIN && v < LONG_MAX) start = v;
            }
            lists_.push_back({name == "ol", start});
            children(node);
            lists_.pop_back();
            layout_.block(!nested);
        } else if (name == "li") {
            layout_.block(false);
            std::string bullet = "- ";
            if (!lists_.empty() && lists_.back().ordered) bullet = std::to_string(lists_.back().next++) + ". ";
            layout_.pushPrefix(std::string(bullet.size(), ' '));
            layout_.setBullet(bullet);
            children(node);
            layout_.popPrefix();
        } else if (name == "blockquote") {
            layout_.block(true);
            layout_.pushPrefix("> ");
            children(node);
            layout_.popPrefix();
            layout_.block(true);
        } else if (name == "pre") {
            layout_.block(true);
            ++pre_;
            children(node);
            --pre_;
            if (pre_ == 0) layout_.endPreformatted();
            layout_.block(true);
        } else if (isAny(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "dl", "address",
                                "figure"})) {
            layout_.block(true);
            children(node);
            layout_.block(true);
        } else if (isAny(name, {"div", "tr", "dt", "dd", "section", "article", "header", "footer",
                                "main", "nav", "aside", "center", "caption", "figcaption", "thead",
                                "tbody", "tfoot", "body", "html"})) {
            layout_.block(false);
            children(node);
            layout_.block(false);
        } else if (name == "td" || name == "th") {
            layout_.text(" ");
            children(node);
            layout_.text(" ");
        } else {
            children(node);  // inline: b, strong, span, font, ...
        }
    }

    void link(const xmlNode* node) {
        const std::string href(trim(attribute(node, "href")));
        const std::size_t flushesBefore = layout_.flushes();
        const std::size_t start = layout_.paragraphSize();
        children(node);
        if (href.empty() || href.front() == '#') return;
        const std::string_view shown =
            layout_.flushes() == flushesBefore ? trim(layout_.paragraphSince(start)) : std::string_view("...");
        if (!shown.empty() && comparableUrl(shown) == comparableUrl(href)) return;
        layout_.word("<" + href + ">");
    }

    TextLayout& layout_;
    std::vector<List> lists_;
    int pre_ = 0;
};

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

}  // namespace

std::string htmlToText(std::string_view html) {
    if (trim(html).empty() || html.size() > static_cast<std::size_t>(INT_MAX)) return {};
    std::unique_ptr<xmlDoc, DocFree> doc(
        htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
                       HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
    if (!doc) return {};
    TextLayout layout;
    Walker walker(layout);
    walker.children(reinterpret_cast<xmlNode*>(doc.get()));
    return layout.finish();
}

}  // namespace campaignd::mail
