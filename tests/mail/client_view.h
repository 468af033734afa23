// client_view.h: reads a header value as RFC 2047 section 6.2 tells a mail client to: unfold,
// decode each encoded-word (with Poco's MessageHeader::decodeWord), and drop the white space
// between two adjacent encoded-words. Poco 1.11's own MailMessage keeps that white space
// (so a long subject split over several words would show stray spaces), which is why the
// tests decode header values here rather than with MailMessage::getSubject.
#pragma once

#include <Poco/Net/MessageHeader.h>

#include <string>
#include <string_view>

namespace campaignd::mail::test {

inline bool isEncodedWord(std::string_view token) {
    if (token.size() < 8 || token.substr(0, 2) != "=?" || token.substr(token.size() - 2) != "?=") return false;
    std::size_t questionMarks = 0;
    for (char c : token) questionMarks += c == '?';
    return questionMarks == 4;
}

inline std::string clientView(std::string_view value) {
    std::string unfolded;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value.compare(i, 2, "\r\n") == 0) {
            ++i;
            continue;
        }
        unfolded += value[i];
    }
    std::string out, space;
    bool lastEncoded = false;
    std::size_t i = 0;
    while (i < unfolded.size()) {
        if (unfolded[i] == ' ' || unfolded[i] == '\t') {
            space += unfolded[i++];
            continue;
        }
        std::size_t end = unfolded.find_first_of(" \t", i);
        if (end == std::string::npos) end = unfolded.size();
        const std::string token = unfolded.substr(i, end - i);
        const bool encoded = isEncodedWord(token);
        if (!(encoded && lastEncoded)) out += space;
        out += encoded ? Poco::Net::MessageHeader::decodeWord(token) : token;
        space.clear();
        lastEncoded = encoded;
        i = end;
    }
    return out + space;
}

}  // namespace campaignd::mail::test
