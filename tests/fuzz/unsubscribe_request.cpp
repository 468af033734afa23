// unsubscribe_request.cpp: fuzzes the recogniser of unsubscribe requests by mail
// (mail/unsubscribe_request.h), which reads the header block of any message that reaches the
// bounce mailbox or `bounces ingest`. Properties: nothing reads past its input (ASan); what it
// accepts names a campaign and recipient whose public token, as campaignd makes it for the
// fixed secret, is in the message's header block (a request is never invented); and a message
// whose header block does not name the unsubscribe address is never one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mail/unsubscribe_request.h"
#include "mail/verp.h"

namespace {

using campaignd::fuzz::check;
namespace mail = campaignd::mail;

constexpr std::string_view kSecret = "fuzz-secret-of-at-least-16-octets";
constexpr std::string_view kMailto = "unsubscribe@example.org";

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto asked = mail::unsubscribeRequest(input, kMailto, kSecret);
    if (!asked) return 0;
    const std::string headers = lower(input.substr(0, mail::kMaxUnsubscribeHeaderBytes));
    const std::string token = mail::publicToken(kSecret, asked->campaignId, asked->recipientId);
    check(headers.find(token) != std::string::npos, "an accepted request carries the token campaignd made", token);
    check(headers.find("@example.org") != std::string::npos, "an accepted request names the unsubscribe address",
          std::string(input.substr(0, 200)));
    return 0;
}
