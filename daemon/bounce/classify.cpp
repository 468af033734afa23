// classify.cpp: the bounce-reason vocabulary and the classification of one outcome. The
// enhanced status code decides when it is specific (5.1.1, 5.2.2, 4.4.7, ...); the wording of
// the diagnostic decides when the code is generic or missing. Pure functions, no state.
#include "bounce/bounce_parser.h"

#include <array>
#include <cctype>
#include <string>

namespace campaignd::bounce {

namespace {

constexpr std::array<std::string_view, 27> kReasonNames = {
    "userunknown", "hostunknown", "mailboxfull", "filtered", "blocked", "spamdetected",
    "rejected", "policyviolation", "expired", "suspend", "securityerror", "systemerror",
    "networkerror", "toomanyconn", "mesgtoobig", "exceedlimit", "norelaying", "notaccept",
    "hasmoved", "syntaxerror", "contenterror", "virusdetected", "onhold", "vacation",
    "feedback", "delivered", "undefined"};

struct Wording {
    std::string_view phrase;  // lower case
    Reason reason;
};

// First match wins, so specific phrases come before the general ones they contain
// ("domain does not exist" before "does not exist", "spamhaus" before "spam",
// "mailbox size limit" before "size limit", "address rejected: user unknown" works because
// userunknown comes before rejected).
constexpr Wording kWordings[] = {
    {"virus", Reason::virusDetected},
    {"malware", Reason::virusDetected},
    {"infected", Reason::virusDetected},
    {"host or domain name not found", Reason::hostUnknown},
    {"domain not found", Reason::hostUnknown},
    {"domain does not exist", Reason::hostUnknown},
    {"no such domain", Reason::hostUnknown},
    {"host not found", Reason::hostUnknown},
    {"host unknown", Reason::hostUnknown},
    {"unknown host", Reason::hostUnknown},
    {"name or service not known", Reason::hostUnknown},
    {"unrouteable mail domain", Reason::hostUnknown},
    {"null mx", Reason::notAccept},
    {"does not accept mail", Reason::notAccept},
    {"not accepting mail", Reason::notAccept},
    {"spamhaus", Reason::blocked},
    {"spamcop", Reason::blocked},
    {"blacklist", Reason::blocked},
    {"blocklist", Reason::blocked},
    {"black list", Reason::blocked},
    {"block list", Reason::blocked},
    {"dnsbl", Reason::blocked},
    {"rbl", Reason::blocked},
    {"not listed in", Reason::userUnknown},
    {"listed", Reason::blocked},
    {"spam", Reason::spamDetected},
    {"junk mail", Reason::spamDetected},
    {"unsolicited", Reason::spamDetected},
    {"mailbox full", Reason::mailboxFull},
    {"mailbox is full", Reason::mailboxFull},
    {"mailbox size limit", Reason::mailboxFull},
    {"quota exceeded", Reason::mailboxFull},
    {"exceeded quota", Reason::mailboxFull},
    {"over quota", Reason::mailboxFull},
    {"overquota", Reason::mailboxFull},
    {"exceeded storage", Reason::mailboxFull},
    {"insufficient storage", Reason::mailboxFull},
    {"out of storage", Reason::mailboxFull},
    {"mailfolder is full", Reason::mailboxFull},
    {"message too large", Reason::mesgTooBig},
    {"message is too large", Reason::mesgTooBig},
    {"message too big", Reason::mesgTooBig},
    {"message size exceeds", Reason::mesgTooBig},
    {"exceeds size limit", Reason::mesgTooBig},
    {"size limit", Reason::mesgTooBig},
    {"user unknown", Reason::userUnknown},
    {"unknown user", Reason::userUnknown},
    {"no such user", Reason::userUnknown},
    {"does not exist", Reason::userUnknown},
    {"doesn't exist", Reason::userUnknown},
    {"doesn't have a", Reason::userUnknown},
    {"recipient not found", Reason::userUnknown},
    {"recipnotfound", Reason::userUnknown},
    {"unknown recipient", Reason::userUnknown},
    {"recipient unknown", Reason::userUnknown},
    {"invalid recipient", Reason::userUnknown},
    {"user not found", Reason::userUnknown},
    {"no such mailbox", Reason::userUnknown},
    {"mailbox not found", Reason::userUnknown},
    {"mailbox unavailable", Reason::userUnknown},
    {"no mailbox", Reason::userUnknown},
    {"address not found", Reason::userUnknown},
    {"couldn't be found", Reason::userUnknown},
    {"could not be found", Reason::userUnknown},
    {"not a valid mailbox", Reason::userUnknown},
    {"no such recipient", Reason::userUnknown},
    {"unknown local part", Reason::userUnknown},
    {"unrouteable address", Reason::userUnknown},
    {"account has been disabled", Reason::suspend},
    {"account is disabled", Reason::suspend},
    {"disabled", Reason::suspend},
    {"suspended", Reason::suspend},
    {"inactive", Reason::suspend},
    {"deactivated", Reason::suspend},
    {"has moved", Reason::hasMoved},
    {"relay", Reason::noRelaying},
    {"too many connections", Reason::tooManyConn},
    {"too many concurrent", Reason::tooManyConn},
    {"rate limit", Reason::tooManyConn},
    {"too many messages", Reason::exceedLimit},
    {"too many recipients", Reason::exceedLimit},
    {"limit exceeded", Reason::exceedLimit},
    {"exceeds limit", Reason::exceedLimit},
    {"expired", Reason::expired},
    {"retry timeout exceeded", Reason::expired},
    {"too long in queue", Reason::expired},
    {"connection refused", Reason::networkError},
    {"connection timed out", Reason::networkError},
    {"no route to host", Reason::networkError},
    {"lost connection", Reason::networkError},
    {"connection reset", Reason::networkError},
    {"network", Reason::networkError},
    {"spf", Reason::securityError},
    {"dmarc", Reason::securityError},
    {"dkim", Reason::securityError},
    {"authentication", Reason::securityError},
    {"policy", Reason::policyViolation},
    {"syntax error", Reason::syntaxError},
    {"command unrecognized", Reason::syntaxError},
    {"content rejected", Reason::contentError},
    {"system error", Reason::systemError},
    {"internal error", Reason::systemError},
    {"configuration error", Reason::systemError},
    {"filtered", Reason::filtered},
    {"content filter", Reason::filtered},
    {"blocked", Reason::blocked},
    {"banned", Reason::blocked},
    {"on hold", Reason::onHold},
    {"rejected", Reason::rejected},
    {"refused", Reason::rejected},
    {"denied", Reason::rejected},
};

std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::optional<Reason> fromWording(std::string_view diagnostic) {
    if (diagnostic.empty()) {
        return std::nullopt;
    }
    const std::string lower = lowerCopy(diagnostic);
    for (const Wording& w : kWordings) {
        if (lower.find(w.phrase) != std::string::npos) {
            return w.reason;
        }
    }
    return std::nullopt;
}

// The reason a specific enhanced code names on its own, or nullopt when the code is generic
// and the wording has to decide. `subject`/`detail` are the second and third numbers.
std::optional<Reason> fromCode(char klass, int subject, int detail) {
    switch (subject) {
    case 1:
        switch (detail) {
        case 1: case 3: case 4: return Reason::userUnknown;  // bad/ambiguous mailbox
        case 2: case 10: return Reason::hostUnknown;         // bad system, null MX
        case 6: return Reason::hasMoved;
        case 7: case 8: return Reason::rejected;              // the sender's address is bad
        default: return std::nullopt;
        }
    case 2:
        switch (detail) {
        case 1: return Reason::suspend;      // mailbox disabled
        case 2: return Reason::mailboxFull;
        case 3: return Reason::mesgTooBig;   // message longer than the mailbox allows
        case 4: return Reason::systemError;  // list expansion problem
        default: return std::nullopt;
        }
    case 3:
        switch (detail) {
        case 1: return Reason::systemError;  // mail system full
        case 2: return Reason::notAccept;
        case 3: case 5: return Reason::systemError;
        case 4: return Reason::mesgTooBig;
        default: return std::nullopt;
        }
    case 4:
        switch (detail) {
        case 1: case 2: case 6: return Reason::networkError;  // no answer, bad connection, loop
        case 3: return Reason::systemError;                   // routing server failure
        case 4: return Reason::hostUnknown;                   // unable to route
        case 5: return Reason::tooManyConn;                   // congestion
        case 7: return Reason::expired;
        default: return std::nullopt;
        }
    case 5:
        if (detail == 3) {
            return Reason::exceedLimit;  // too many recipients
        }
        return detail == 0 ? std::nullopt : std::optional<Reason>(Reason::syntaxError);
    case 6:
        return detail == 0 ? std::nullopt : std::optional<Reason>(Reason::contentError);
    case 7:
        switch (detail) {
        case 2: return Reason::policyViolation;  // list expansion prohibited
        case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 23: case 26:
            return Reason::securityError;
        case 13: case 18: return Reason::suspend;  // account disabled
        case 17: return Reason::hasMoved;          // mailbox owner changed
        case 25: return Reason::blocked;           // reverse DNS
        case 28: return Reason::spamDetected;      // mail flood
        default: return std::nullopt;              // 5.7.0, 5.7.1: the wording decides
        }
    default:
        (void)klass;
        return std::nullopt;
    }
}

int parseNumber(std::string_view s, std::size_t& pos) {
    int value = 0;
    std::size_t start = pos;
    while (pos < s.size() && pos - start < 3 && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        value = value * 10 + (s[pos] - '0');
        ++pos;
    }
    return pos == start ? -1 : value;
}

}  // namespace

std::string_view toString(Reason reason) {
    const auto index = static_cast<std::size_t>(reason);
    return index < kReasonNames.size() ? kReasonNames[index] : "undefined";
}

std::string_view toString(Action action) {
    switch (action) {
    case Action::failed: return "failed";
    case Action::delayed: return "delayed";
    case Action::delivered: return "delivered";
    case Action::relayed: return "relayed";
    case Action::expanded: return "expanded";
    case Action::complaint: return "complaint";
    case Action::autoreply: return "autoreply";
    }
    return "failed";
}

std::optional<Reason> reasonFromString(std::string_view word) {
    for (std::size_t i = 0; i < kReasonNames.size(); ++i) {
        if (kReasonNames[i] == word) {
            return static_cast<Reason>(i);
        }
    }
    return std::nullopt;
}

bool isHard(Reason reason) {
    return reason == Reason::userUnknown || reason == Reason::hostUnknown ||
           reason == Reason::hasMoved;
}

Reason classify(std::string_view status, std::string_view diagnostic) {
    std::size_t pos = 0;
    int klass = parseNumber(status, pos);
    int subject = -1;
    int detail = -1;
    if (klass >= 2 && klass <= 5 && pos < status.size() && status[pos] == '.') {
        ++pos;
        subject = parseNumber(status, pos);
        if (pos < status.size() && status[pos] == '.') {
            ++pos;
            detail = parseNumber(status, pos);
        }
    }
    if (klass == 2 && subject >= 0) {
        return Reason::delivered;
    }
    if (subject >= 0 && detail >= 0) {
        if (std::optional<Reason> r = fromCode(static_cast<char>('0' + klass), subject, detail)) {
            return *r;
        }
    }
    if (std::optional<Reason> r = fromWording(diagnostic)) {
        return *r;
    }
    // A generic code without telling words.
    if (subject == 7) {
        return detail == 1 ? Reason::rejected : Reason::securityError;
    }
    if (subject == 3) {
        return Reason::systemError;
    }
    if (subject == 4) {
        return Reason::networkError;
    }
    return Reason::undefined;
}

}  // namespace campaignd::bounce
