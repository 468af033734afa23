// unsubscribe_request.h: recognises a mail to the unsubscribe address ([Sending]
// UnsubscribeMailto=) that asks for one recipient to be unsubscribed, as List-Unsubscribe's
// mailto: URI makes mail clients write it: to that address, subject "unsubscribe <token>"
// (the URI's ?subject=), or to "<local>+<token>@<domain>" (a client that drops the subject;
// the delimiter is VERP's). <token> is the public token "<campaign id>-<recipient token>",
// checked with the secret (HMAC, constant time): a message without a valid one asks for
// nothing, whatever else it says. Reads only the header block, at most kMaxHeaderBytes of it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "mail/verp.h"

namespace campaignd::mail {

inline constexpr std::size_t kMaxUnsubscribeHeaderBytes = 64 * 1024;

// The campaign and recipient `raw` asks to unsubscribe; nullopt unless one of its To, Cc,
// Delivered-To, X-Original-To or Envelope-To fields names `mailto` (case-insensitively, with
// or without "+<token>" after its local part) and a valid token is in the subject or in that
// address. `mailto` is the normalised unsubscribe address; `delimiter` VERP's ('+').
std::optional<VerpAddress> unsubscribeRequest(std::string_view raw, std::string_view mailto,
                                              std::string_view secret, char delimiter = '+');

}  // namespace campaignd::mail
