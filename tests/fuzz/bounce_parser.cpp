// bounce_parser.cpp: fuzzes the bounce parser (daemon/bounce) on whole raw
// messages, the outside input a mailbox or a pipe(8) transport hands campaignd. parseMessage
// promises never to throw and to bound its work; what it returns must be what the bounce
// processing will assume: every result has a recipient, a hard result is a permanent failure
// of a hard reason, a delay is never hard, a complaint is not a bounce, and the texts are
// valid UTF-8 without line breaks in the recipient.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bounce/bounce_parser.h"
#include "fuzz_check.h"

namespace {

using campaignd::fuzz::check;
using campaignd::fuzz::isValidUtf8;
namespace bounce = campaignd::bounce;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const bounce::ParsedMessage parsed = bounce::parseMessage(raw);
    for (const auto& r : parsed.results) {
        check(!r.recipient.empty(), "every result names a recipient", r.recipient);
        check(r.recipient.find_first_of("\r\n") == std::string_view::npos,
              "a recipient is one line", r.recipient);
        check(isValidUtf8(r.recipient) && isValidUtf8(r.diagnostic) && isValidUtf8(r.status),
              "result texts are valid UTF-8", r.recipient + " | " + r.diagnostic);
        if (r.hard) {
            check(bounce::isHard(r.reason), "a hard result has a hard reason",
                  std::string(bounce::toString(r.reason)));
            check(r.action == bounce::Action::failed, "a hard result is a failure", r.recipient);
            check(r.status.empty() || r.status[0] == '5', "a hard result is permanent", r.status);
        }
        if (r.action == bounce::Action::delayed) check(!r.hard, "a delay is never hard", r.recipient);
        check(bounce::reasonFromString(bounce::toString(r.reason)) == r.reason,
              "reason names round-trip", std::string(bounce::toString(r.reason)));
    }
    if (parsed.isComplaint) check(!parsed.isAutoReply, "a complaint is not an auto-reply", parsed.format);
    return 0;
}
