// smtp_reply.cpp: fuzzes the smtp plugin's reader of server replies (plugins/smtp/smtp_reply.h)
// with whatever a hostile or broken server could send, split into lines as ReplyStream hands them
// over. Properties: a reply code is 100-599; an enhanced status is empty or class.subject.detail
// (class 2, 4 or 5; 1-3 digits each) and is where the first line's text starts; the kept text
// never exceeds kMaxReplyText; a completed reply's code is the code of its last line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "smtp_reply.h"

namespace {

using campaignd::fuzz::check;
namespace smtp = campaignd::smtp;

bool wellFormedStatus(std::string_view s) {
    if (s.empty()) return true;
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2, digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    if (digits < 1 || digits > 3 || i >= s.size() || s[i] != '.') return false;
    ++i;
    digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    return digits >= 1 && digits <= 3 && i == s.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    smtp::ReplyReader reader;
    std::size_t from = 0;
    while (from < input.size()) {
        const auto eol = input.find('\n', from);
        const std::size_t end = eol == std::string_view::npos ? input.size() : eol + 1;
        const std::string_view line = input.substr(from, end - from);
        from = end;

        const auto parsed = smtp::parseReplyLine(line);
        if (parsed) {
            check(parsed->code >= 100 && parsed->code <= 599, "a reply code is 100-599", line);
            check(parsed->text.size() <= line.size(), "the text is part of the line", line);
            const std::string_view status = smtp::enhancedStatus(parsed->text);
            check(wellFormedStatus(status), "an enhanced status is class.subject.detail", status);
            check(parsed->text.substr(0, status.size()) == status, "the status starts the text", line);
            (void)smtp::announcesAuth(parsed->text);
        }
        const bool complete = reader.take(line);
        check(reader.text().size() <= smtp::kMaxReplyText, "the kept text is bounded", reader.text());
        check(wellFormedStatus(reader.enhanced()), "the reader's status is well formed", reader.enhanced());
        if (complete) {
            check(parsed.has_value() && parsed->last, "only a final line completes a reply", line);
            check(reader.code() == parsed->code, "a reply's code is its last line's", line);
        }
    }
    return 0;
}
