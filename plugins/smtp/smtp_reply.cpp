// smtp_reply.cpp: see smtp_reply.h.
#include "smtp_reply.h"

#include <algorithm>
#include <cstring>

namespace campaignd::smtp {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::size_t digitsAt(std::string_view s, std::size_t from) {
    std::size_t n = 0;
    while (from + n < s.size() && n < 4 && isDigit(s[from + n])) ++n;
    return n;
}

}  // namespace

std::optional<ReplyLine> parseReplyLine(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.size() < 3 || line[0] < '1' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2])) return std::nullopt;
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return std::nullopt;
    ReplyLine r;
    r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    r.last = line.size() == 3 || line[3] == ' ';
    r.text = line.size() > 4 ? line.substr(4) : std::string_view();
    return r;
}

std::string_view enhancedStatus(std::string_view text) {
    if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') return {};
    const std::size_t subject = digitsAt(text, 2);
    if (subject == 0 || subject > 3 || 2 + subject >= text.size() || text[2 + subject] != '.') return {};
    const std::size_t detailAt = 3 + subject;
    const std::size_t detail = digitsAt(text, detailAt);
    if (detail == 0 || detail > 3) return {};
    const std::size_t end = detailAt + detail;
    if (end != text.size() && text[end] != ' ') return {};
    return text.substr(0, end);
}

bool announcesAuth(std::string_view text) {
    if (text.size() < 4) return false;
    for (std::size_t i = 0; i < 4; ++i)
        if ((text[i] | 0x20) != "auth"[i]) return false;
    return text.size() == 4 || text[4] == ' ' || text[4] == '=';
}

void ReplyReader::clear() {
    code_ = 0;
    complete_ = false;
    enhanced_[0] = '\0';
    text_.clear();
}

bool ReplyReader::take(std::string_view line) {
    const auto parsed = parseReplyLine(line);
    if (!parsed) return false;
    if (complete_ || (code_ != 0 && parsed->code != code_)) clear();
    if (code_ == 0) {
        code_ = parsed->code;
        const std::string_view status = enhancedStatus(parsed->text);
        if (!status.empty()) std::memcpy(enhanced_, status.data(), status.size());  // at most 11 bytes
        enhanced_[status.size()] = '\0';
    }
    if (text_.size() < kMaxReplyText) {
        if (!text_.empty()) text_ += ' ';
        text_.append(parsed->text.substr(0, kMaxReplyText - std::min(text_.size(), kMaxReplyText)));
        if (text_.size() > kMaxReplyText) text_.resize(kMaxReplyText);
    }
    complete_ = parsed->last;
    return complete_;
}

}  // namespace campaignd::smtp
