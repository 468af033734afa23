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

void ReplyStream::clear() {
    partial_.clear();
    skipping_ = false;
    reader_.clear();
    replies_.clear();
    overflowed_ = false;
}

void ReplyStream::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto eol = bytes.find('\n');
        const std::string_view piece = bytes.substr(0, eol);  // npos: all of it
        if (!skipping_) {
            const std::size_t room = kMaxLine - partial_.size();
            partial_.append(piece.substr(0, room));
            if (piece.size() > room) skipping_ = true;
        }
        if (eol == std::string_view::npos) return;
        line(partial_);
        partial_.clear();
        skipping_ = false;
        bytes.remove_prefix(eol + 1);
    }
}

void ReplyStream::line(std::string_view text) {
    if (extensions_ != nullptr) {
        const auto parsed = parseReplyLine(text);
        if (parsed && parsed->code == 250) extensions_->line(parsed->text);
    }
    if (!reader_.take(text)) return;
    if (replies_.size() >= kMaxQueued) {
        overflowed_ = true;
        return;
    }
    replies_.push_back({reader_.code(), reader_.enhanced(), reader_.text()});
}

Reply ReplyStream::pop() {
    Reply r = std::move(replies_.front());
    replies_.pop_front();
    return r;
}

void ExtensionReader::line(std::string_view text) {
    if (first_) {  // the server's name and greeting text
        first_ = false;
        return;
    }
    auto upper = [](std::string_view s) {
        std::string u(s.substr(0, 64));
        for (char& c : u)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        return u;
    };
    const std::size_t space = text.find_first_of(" =");
    const std::string keyword = upper(text.substr(0, space));
    const std::string_view params = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (keyword == "PIPELINING") ext_.pipelining = true;
    else if (keyword == "STARTTLS") ext_.startTls = true;
    else if (keyword == "8BITMIME") ext_.eightBitMime = true;
    else if (keyword == "CHUNKING") ext_.chunking = true;
    else if (keyword == "SIZE") {
        std::uint64_t n = 0;
        std::size_t i = 0;
        for (; i < params.size() && i < 19 && isDigit(params[i]); ++i) n = n * 10 + std::uint64_t(params[i] - '0');
        ext_.size = n;
    } else if (keyword == "AUTH") {
        ext_.auth = true;
        std::size_t from = 0;
        while (from < params.size()) {
            const std::size_t end = std::min(params.find(' ', from), params.size());
            const std::string mechanism = upper(params.substr(from, end - from));
            if (mechanism == "PLAIN") ext_.authPlain = true;
            if (mechanism == "LOGIN") ext_.authLogin = true;
            from = end + 1;
        }
    }
}

}  // namespace campaignd::smtp
