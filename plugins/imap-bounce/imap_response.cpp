// imap_response.cpp: see imap_response.h.
#include "imap_response.h"

#include <algorithm>
#include <string_view>

namespace campaignd::imap {

bool ResponseReader::read(const std::string& tag, Response& r, Failure& f) {
    std::size_t kept = 0;  // bytes of lines and literals this response holds
    const auto keep = [&](std::size_t n) {
        kept += n;
        if (kept <= kMaxResponseBytes) return true;
        f = {CAMPAIGND_ERR_FAILED, "the IMAP server sent a response larger than " +
                                       std::to_string(kMaxResponseBytes >> 20) + " MiB"};
        return false;
    };
    for (;;) {
        std::string current;
        if (!readLine(current, f)) return false;
        // A line may end in literals: {N}CRLF, N bytes, then more of the line.
        while (current.size() > 2 && current.back() == '}') {
            const auto open = current.rfind('{');
            if (open == std::string::npos) break;
            const std::string_view digits(current.data() + open + 1, current.size() - open - 2);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos || digits.size() > 10)
                break;
            std::size_t n = 0;
            for (const char d : digits) n = n * 10 + static_cast<std::size_t>(d - '0');
            if (n > kMaxMessageBytes) {
                f = {CAMPAIGND_ERR_FAILED,
                     "the server sent a literal of " + std::string(digits) + " bytes, more than the limit"};
                return false;
            }
            if (!keep(n)) return false;
            std::string literal;
            if (!readBytes(n, literal, f)) return false;
            r.literals.push_back(std::move(literal));
            std::string rest;
            if (!readLine(rest, f)) return false;
            current.resize(open);
            if (current.size() + rest.size() > kMaxLineBytes) {
                f = {CAMPAIGND_ERR_FAILED, "the IMAP server sent an overlong line"};
                return false;
            }
            current += rest;
        }
        if (current.size() > tag.size() && current.compare(0, tag.size(), tag) == 0 && current[tag.size()] == ' ') {
            const std::string after = current.substr(tag.size() + 1);
            const auto space = after.find(' ');
            r.status = after.substr(0, space);
            r.text = space == std::string::npos ? "" : after.substr(space + 1);
            return true;
        }
        if (!keep(current.size())) return false;
        r.untagged.push_back(std::move(current));
    }
}

bool ResponseReader::readLine(std::string& line, Failure& f) {
    for (;;) {
        const auto end = buffer_.find("\r\n", scan_);
        if (end != std::string::npos) {
            if (end > kMaxLineBytes) break;
            line.assign(buffer_, 0, end);
            buffer_.erase(0, end + 2);
            scan_ = 0;
            return true;
        }
        if (buffer_.size() > kMaxLineBytes) break;
        scan_ = buffer_.empty() ? 0 : buffer_.size() - 1;
        if (!source_(buffer_, f)) return false;
    }
    f = {CAMPAIGND_ERR_FAILED, "the IMAP server sent an overlong line"};
    return false;
}

bool ResponseReader::readBytes(std::size_t n, std::string& out, Failure& f) {
    // Straight into `out`, reserved once, as the bytes come: a literal is held once, not in
    // the buffer and again in `out`, nor copied as a growing buffer doubles (it took twice a
    // message's size, and more while reallocating); the buffer keeps at most one read's worth.
    out.clear();
    out.reserve(n);
    for (;;) {
        const std::size_t take = std::min(n - out.size(), buffer_.size());
        out.append(buffer_, 0, take);
        buffer_.erase(0, take);
        if (out.size() == n) break;
        if (!source_(buffer_, f)) return false;
    }
    scan_ = 0;
    return true;
}

std::vector<unsigned long> searchUids(const std::vector<std::string>& untagged) {
    std::vector<unsigned long> uids;
    for (const std::string& line : untagged) {
        if (line.rfind("* SEARCH", 0) != 0) continue;
        std::size_t pos = 8;
        while (pos < line.size()) {
            while (pos < line.size() && line[pos] == ' ') ++pos;
            std::size_t end = pos;
            while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
            if (end > pos && end - pos < 11) {
                unsigned long uid = 0;
                for (std::size_t i = pos; i < end; ++i) uid = uid * 10 + static_cast<unsigned long>(line[i] - '0');
                uids.push_back(uid);
            }
            pos = end == pos ? end + 1 : end;
        }
    }
    return uids;
}

}  // namespace campaignd::imap
