// smtp_reply_stream.cpp: fuzzes what the smtp plugin's pipelining client reads off the socket
// (plugins/smtp/smtp_reply.h: ReplyStream cutting bytes into replies, ExtensionReader reading
// the EHLO reply), with whatever a hostile or broken server could send, in chunks of any size.
// The first input byte chooses the chunk size. Properties: the replies are the same however
// the bytes are split (one read may carry several replies or part of one); each has a code of
// 100-599, an enhanced status that starts its text, and a text of at most kMaxReplyText bytes;
// no more than kMaxQueued wait unread; the extensions read from the same lines are the same
// however they were split too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "smtp_reply.h"

namespace {

using campaignd::fuzz::check;
namespace smtp = campaignd::smtp;

struct Seen {
    std::vector<smtp::Reply> replies;
    smtp::Extensions extensions;
    bool overflowed = false;
};

Seen readAll(std::string_view input, std::size_t chunk) {
    Seen seen;
    smtp::ReplyStream stream;
    smtp::ExtensionReader ehlo;
    stream.collectExtensions(&ehlo);
    for (std::size_t at = 0; at < input.size(); at += chunk) {
        stream.feed(input.substr(at, chunk));
        check(!stream.ready() || !stream.idle(), "a ready stream is not idle", input);
        // Take half of what is ready each time, so replies also wait in the queue.
        std::size_t ready = 0;
        while (stream.ready() && ready++ % 2 == 0) seen.replies.push_back(stream.pop());
    }
    while (stream.ready()) seen.replies.push_back(stream.pop());
    seen.extensions = ehlo.extensions();
    seen.overflowed = stream.overflowed();
    return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    const Seen whole = readAll(input, input.size() + 1);
    const Seen split = readAll(input, chunk);
    check(whole.replies.size() == split.replies.size(), "the split does not change how many replies", input);
    check(whole.overflowed == split.overflowed, "the split does not change an overflow", input);
    for (std::size_t i = 0; i < whole.replies.size() && i < split.replies.size(); ++i) {
        const smtp::Reply& r = whole.replies[i];
        check(r.code == split.replies[i].code && r.text == split.replies[i].text && r.enhanced == split.replies[i].enhanced,
              "the split does not change a reply", r.text);
        check(r.code >= 100 && r.code <= 599, "a reply code is 100-599", r.text);
        check(r.text.size() <= smtp::kMaxReplyText, "a reply's text is bounded", r.text);
        check(r.text.compare(0, r.enhanced.size(), r.enhanced) == 0, "the enhanced status starts the text", r.text);
    }
    const smtp::Extensions& a = whole.extensions;
    const smtp::Extensions& b = split.extensions;
    check(a.pipelining == b.pipelining && a.startTls == b.startTls && a.auth == b.auth && a.authPlain == b.authPlain &&
              a.authLogin == b.authLogin && a.eightBitMime == b.eightBitMime && a.size == b.size,
          "the split does not change the extensions", input);
    check(a.auth || (!a.authPlain && !a.authLogin), "a mechanism only with AUTH", input);
    return 0;
}
