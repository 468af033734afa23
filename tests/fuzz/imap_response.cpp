// imap_response.cpp: fuzzes the imap-bounce plugin's reader of IMAP server responses
// (plugins/imap-bounce/imap_response.h) with whatever a hostile or broken server could send,
// handed over in chunks of the sizes the input's first bytes choose. Properties: every
// successful read ends at a line tagged with the tag asked for, its status is one word; no
// untagged line and no literal exceeds its limit; the reader never asks for more than the input
// holds without failing; searchUids returns only numbers of at most 10 digits.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "imap_response.h"

namespace {

using campaignd::fuzz::check;
namespace imap = campaignd::imap;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t at = 0;
    imap::ResponseReader reader([&](std::string& buffer, imap::Failure& f) {
        if (at >= input.size()) {
            f = {CAMPAIGND_ERR_CONNECTION, "end of input"};
            return false;
        }
        const std::size_t n = std::min(chunk, input.size() - at);
        buffer.append(input.substr(at, n));
        at += n;
        return true;
    });
    for (unsigned i = 1; i <= 64; ++i) {
        const std::string tag = "cd" + std::to_string(i);
        imap::Response r;
        imap::Failure f;
        if (!reader.read(tag, r, f)) {
            check(!f.message.empty(), "a failure says why");
            break;
        }
        check(r.status.find(' ') == std::string::npos, "the status is one word");
        for (const auto& line : r.untagged) check(line.size() <= imap::kMaxLineBytes, "no overlong line is kept");
        for (const auto& literal : r.literals) check(literal.size() <= imap::kMaxMessageBytes, "no oversized literal");
        for (const unsigned long uid : imap::searchUids(r.untagged)) check(uid <= 9999999999UL, "a UID of at most 10 digits");
    }
    return 0;
}
