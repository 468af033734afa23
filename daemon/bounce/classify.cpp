// classify.cpp: the bounce-reason vocabulary and the classification of one outcome, after the
// way Sisimai decides (its Reason.pm and Reason/*.pm), written as data: which reason an enhanced
// status names (kStatusReasons), which wording names which reason (reason_phrases.inc, derived
// from Sisimai's modules, and kOwnPhrases), in what order the reasons are tried, and what the
// SMTP command a rejection answered allows (kFirstPass), what one provider's servers mean by
// a reply (kRemoteHostShapes), which words show that command
// (kCommandWords), and the pseudo status a reason stands for when the server gave none
// (kPseudoStatus). Pure functions, no state beyond the constant tables.
#include "bounce/bounce_parser.h"
#include "bounce/mime_walk.h"
#include "bounce/text_scan.h"

#include <array>
#include <bitset>
#include <cctype>
#include <string>
#include <vector>

namespace campaignd::bounce {

namespace {

constexpr std::array<std::string_view, 27> kReasonNames = {
    "userunknown", "hostunknown", "mailboxfull", "filtered", "blocked", "spamdetected",
    "rejected", "policyviolation", "expired", "suspend", "securityerror", "systemerror",
    "networkerror", "toomanyconn", "mesgtoobig", "exceedlimit", "norelaying", "notaccept",
    "hasmoved", "syntaxerror", "contenterror", "virusdetected", "onhold", "vacation",
    "feedback", "delivered", "undefined"};
constexpr std::size_t kReasons = kReasonNames.size();
using ReasonSet = std::bitset<kReasons>;

struct Phrase {
    Reason reason;
    std::string_view text;  // lower case; '*' one run of non-blank characters; trailing '$' ends
                            // the text; leading '!': a text holding it is not of this reason
};

// Sisimai's wording, per reason (generated; see the file's head).
constexpr Phrase kSisimaiPhrases[] = {
#include "bounce/reason_phrases.inc"
};

// campaignd's own wording, for shapes Sisimai's reason modules leave to its per-server modules.
constexpr Phrase kOwnPhrases[] = {
    {Reason::mailboxFull, "does not have enough space"},
    {Reason::mailboxFull, "not enough storage space"},
    {Reason::mailboxFull, "disk space limit"},
    {Reason::mailboxFull, "mailbox exceeds allowed size"},
    {Reason::mailboxFull, "too many messages on the server"},
    {Reason::userUnknown, "is not a known user"},
    {Reason::userUnknown, "no mail box available for this user"},
    {Reason::userUnknown, "addressee unknown"},  // Sendmail's and IMail's "<a@b>... Addressee unknown"
    {Reason::networkError, "malformed name server reply"},
    {Reason::networkError, "malformed or unexpected name server reply"},
    {Reason::networkError, "unrouteable mail domain"},
    {Reason::systemError, "loops back to myself"},
};

// Per-mail-server text shapes (Sisimai's Lhost/*.pm message tables): a phrase one server
// writes for one reason. Like the reason a Sisimai server module sets, it decides unless it is
// a tentative reason (kTentative), which the first pass may still overrule.
constexpr Phrase kServerShapes[] = {
    // qmail (qmail-local.c, qmail-remote.c, error_str.c)
    {Reason::userUnknown, "no mailbox here by that name"},
    {Reason::userUnknown, "does not like recipient."},
    {Reason::mailboxFull, "disk quota exceeded"},
    {Reason::mesgTooBig, "message size exceeds fixed maximum message size:"},
    {Reason::hostUnknown, "sorry, i couldn't find any host "},
    {Reason::systemError, "requested action not taken: mailbox unavailable (not enough free space)"},
    {Reason::systemError, "bad interpreter: no such file or directory"},
    {Reason::networkError, "sorry, i wasn't able to establish an smtp connection"},
    {Reason::networkError, "sorry, i couldn't find a mail exchanger or ip address"},
    {Reason::networkError, "although i'm listed as a best-preference mx or a for that host"},
    // Exim (retry.c, smtp.c, deliver.c)
    {Reason::mailboxFull, "mailbox is full"},  // before the expiry it caused
    {Reason::expired, "retry timeout exceeded"},
    {Reason::expired, "all hosts have been failing for a long time"},
    {Reason::expired, "retry time not reached for any host after a long failure period"},
    {Reason::expired, "delivery attempts will continue for"},
    {Reason::hostUnknown, "all host address lookups failed permanently"},
    {Reason::hostUnknown, "all relevant mx records point to non-existent hosts"},
    {Reason::hostUnknown, "unrouteable address"},
    {Reason::mailboxFull, "error: quota exceed"},
    {Reason::notAccept, "an mx or srv record indicated no smtp service"},
    {Reason::notAccept, "no host found for existing smtp connection"},
    {Reason::syntaxError, "angle-brackets nested too deep"},
    {Reason::syntaxError, "domain missing in source-routed address"},
    {Reason::syntaxError, "malformed address:"},
    {Reason::systemError, "delivery to file forbidden"},
    {Reason::systemError, "delivery to pipe forbidden"},
    {Reason::systemError, "local delivery failed"},
    {Reason::systemError, "lmtp error after "},
    {Reason::contentError, "too many \"received\" headers"},
    // Lotus Domino and Notes
    {Reason::userUnknown, "not listed in domino directory"},
    {Reason::userUnknown, "not listed in public name & address book"},
    {Reason::filtered, "cannot route mail to user"},
    {Reason::systemError, "several matches found in domino directory"},
    {Reason::networkError, "message has exceeded maximum hop count"},
    // Microsoft Exchange 2007 and later: the NDR's code word, and its text for people
    {Reason::hostUnknown, "smtpsend.dns.nonexistentdomain"},
    {Reason::networkError, "smtpsend.dns.mxloopback"},
    {Reason::systemError, "resolver.adr.badprimary"},
    {Reason::userUnknown, "resolver.adr.recipnotfound"},
    {Reason::userUnknown, "resolver.adr.exrecipnotfound"},
    {Reason::userUnknown, "resolver.adr.recipientnotfound"},
    {Reason::tooManyConn, "resolver.adr.reciplimit"},
    {Reason::systemError, "resolver.adr.invalidinsmtp"},
    {Reason::systemError, "resolver.adr.ambiguous"},
    {Reason::securityError, "resolver.rst.authrequired"},
    {Reason::rejected, "resolver.rst.notauthorized"},
    {Reason::mesgTooBig, "resolver.rst.recipsizelimit"},
    {Reason::expired, "queue.expired"},
    {Reason::userUnknown, "the e-mail account does not exist at the organization"},
    // Hotmail and Outlook.com: RFC 5321's words for 550 with its own triple of numbers after
    // them, for an address it does not have (Sisimai's Outlook module), whatever the command
    {Reason::userUnknown, "requested action not taken: mailbox unavailable (*:*:*)"},
    // Microsoft Exchange 2003 and older
    {Reason::userUnknown, "the recipient name is not recognized"},
    {Reason::userUnknown, "invalid final delivery userid"},
    // Gmail's text notices
    {Reason::expired, "dns error: could not contact dns servers"},
    {Reason::expired, "the recipient server did not accept our requests to connect"},
    {Reason::hostUnknown, "dns error: domain name not found"},
    {Reason::hostUnknown, "dns error: dns server returned answer with no data"},
    // Gmail's "(state N)." after the other server's reply: where that server refused it
    // (Sisimai's Gmail module, its state table)
    {Reason::systemError, "(state 6)."},
    {Reason::systemError, "(state 8)."},
    {Reason::systemError, "(state 9)."},
    {Reason::blocked, "(state 13)."},
    {Reason::userUnknown, "(state 14)."},
    {Reason::filtered, "(state 15)."},
    {Reason::filtered, "(state 17)."},
    {Reason::filtered, "(state 18)."},
    // Courier's, and other queue runners', giving up
    {Reason::expired, "delivery failed * attempts"},
    // Courier, GMX
    {Reason::hostUnknown, "no such domain."},
    {Reason::systemError, "this domain's dns violates rfc 1035."},
    {Reason::networkError, "dns lookup failed."},
    {Reason::expired, "delivery retry timeout exceeded"},
};

// What one provider's servers mean by a reply (Sisimai's Rhost/*.pm tables): the answering
// server's domain, the reply code, a phrase of its words (lower case). Tried, like Sisimai,
// before the generic rules whenever no server shape decided.
struct RemoteHostShape {
    std::string_view domain;
    int code;
    std::string_view phrase;
    Reason reason;
};
constexpr RemoteHostShape kRemoteHostShapes[] = {
    // Mimecast (Rhost/Mimecast.pm)
    {"mimecast.com", 421, "sender address blocked", Reason::blocked},
    {"mimecast.com", 451, "recipient temporarily unavailable", Reason::blocked},
    {"mimecast.com", 451, "ip temporarily blacklisted", Reason::blocked},
    {"mimecast.com", 451, "internal resources are temporarily unavailable", Reason::blocked},
    {"mimecast.com", 550, "local ct ip reputation - (reject)", Reason::blocked},
    {"mimecast.com", 550, "spf sender invalid - envelope rejected", Reason::blocked},
    {"mimecast.com", 550, "dkim sender invalid - envelope rejected", Reason::blocked},
    {"mimecast.com", 550, "dmarc sender invalid - envelope rejected", Reason::blocked},
    {"mimecast.com", 554, "maximum email size exceeded", Reason::mesgTooBig},
    {"mimecast.com", 554, "mail loop detected", Reason::networkError},
    {"mimecast.com", 451, "open relay not allowed", Reason::noRelaying},
    {"mimecast.com", 451, "account inbounds disabled", Reason::notAccept},
    {"mimecast.com", 451, "account outbounds disabled", Reason::onHold},
    {"mimecast.com", 451, "hostname is not authorized", Reason::onHold},
    {"mimecast.com", 550, "journal message past expiration", Reason::onHold},
    {"mimecast.com", 550, "anti-spoofing policy - inbound not allowed", Reason::policyViolation},
    {"mimecast.com", 550, "rejected by header-based anti-spoofing policy", Reason::policyViolation},
    {"mimecast.com", 550, "message bounced due to content examination policy", Reason::policyViolation},
    {"mimecast.com", 554, "host network not allowed", Reason::policyViolation},
    {"mimecast.com", 550, "administrative prohibition envelope blocked", Reason::rejected},
    {"mimecast.com", 550, "envelope rejected - block policy for envelope from address", Reason::rejected},
    {"mimecast.com", 535, "incorrect authentication data", Reason::securityError},
    {"mimecast.com", 553, "this route requires encryption (tls)", Reason::securityError},
    {"mimecast.com", 553, "this route requires tls version 1.2 or greater", Reason::securityError},
    {"mimecast.com", 553, "this route requires high-strength ciphers", Reason::securityError},
    {"mimecast.com", 554, "configuration is invalid for this certificate", Reason::securityError},
    {"mimecast.com", 451, "unable to process connection at this time", Reason::systemError},
    {"mimecast.com", 451, "message ended early", Reason::systemError},
    {"mimecast.com", 451, "unable to process command", Reason::systemError},
    {"mimecast.com", 451, "unable to process an email at this time", Reason::systemError},
    {"mimecast.com", 451, "account service is temporarily unavailable", Reason::tooManyConn},
    {"mimecast.com", 452, "too many recipients", Reason::tooManyConn},
    {"mimecast.com", 550, "exceeding outbound thread limit", Reason::tooManyConn},
    {"mimecast.com", 501, "invalid address", Reason::userUnknown},
    {"mimecast.com", 503, "user unknown", Reason::userUnknown},
    {"mimecast.com", 550, "invalid recipient", Reason::userUnknown},
    {"mimecast.com", 554, "email rejected due to security policies", Reason::virusDetected},
};

// Which reason a standard enhanced status code names (RFC 3463 and its registry), as Sisimai's
// SMTP/Status.pm: x.0.0 and the other generic codes name none.
struct StatusReason {
    std::string_view status;
    Reason reason;
};
constexpr StatusReason kStatusReasons[] = {
    {"4.1.6", Reason::hasMoved}, {"4.1.7", Reason::rejected}, {"4.1.8", Reason::rejected},
    {"4.1.9", Reason::systemError}, {"4.2.1", Reason::suspend}, {"4.2.2", Reason::mailboxFull},
    {"4.2.3", Reason::exceedLimit}, {"4.2.4", Reason::filtered}, {"4.3.1", Reason::systemError},
    {"4.3.2", Reason::notAccept}, {"4.3.3", Reason::systemError}, {"4.3.5", Reason::systemError},
    {"4.4.1", Reason::expired}, {"4.4.2", Reason::networkError}, {"4.4.4", Reason::networkError},
    {"4.4.5", Reason::systemError}, {"4.4.6", Reason::networkError}, {"4.4.7", Reason::expired},
    {"4.5.3", Reason::systemError}, {"4.5.5", Reason::systemError}, {"4.6.0", Reason::contentError},
    {"4.6.2", Reason::contentError}, {"4.6.5", Reason::contentError}, {"4.7.1", Reason::blocked},
    {"4.7.2", Reason::blocked}, {"4.7.5", Reason::securityError}, {"4.7.6", Reason::securityError},
    {"4.7.7", Reason::securityError}, {"4.7.12", Reason::securityError},
    {"4.7.15", Reason::securityError}, {"4.7.16", Reason::mesgTooBig},
    {"4.7.24", Reason::securityError}, {"4.7.25", Reason::blocked},
    {"5.1.0", Reason::userUnknown}, {"5.1.1", Reason::userUnknown}, {"5.1.2", Reason::hostUnknown},
    {"5.1.3", Reason::userUnknown}, {"5.1.4", Reason::filtered}, {"5.1.6", Reason::hasMoved},
    {"5.1.7", Reason::rejected}, {"5.1.8", Reason::rejected}, {"5.1.9", Reason::systemError},
    {"5.1.10", Reason::notAccept}, {"5.2.0", Reason::filtered}, {"5.2.1", Reason::filtered},
    {"5.2.2", Reason::mailboxFull}, {"5.2.3", Reason::exceedLimit}, {"5.2.4", Reason::filtered},
    {"5.3.0", Reason::systemError}, {"5.3.1", Reason::systemError}, {"5.3.2", Reason::notAccept},
    {"5.3.3", Reason::systemError}, {"5.3.4", Reason::mesgTooBig}, {"5.3.5", Reason::systemError},
    {"5.4.0", Reason::networkError}, {"5.4.3", Reason::systemError}, {"5.4.4", Reason::hostUnknown},
    {"5.5.3", Reason::tooManyConn}, {"5.5.4", Reason::systemError}, {"5.5.5", Reason::systemError},
    {"5.5.6", Reason::securityError}, {"5.6.0", Reason::contentError},
    {"5.6.1", Reason::contentError}, {"5.6.2", Reason::contentError},
    {"5.6.3", Reason::contentError}, {"5.6.5", Reason::contentError},
    {"5.6.6", Reason::contentError}, {"5.6.7", Reason::contentError},
    {"5.6.8", Reason::contentError}, {"5.6.9", Reason::contentError},
    {"5.7.0", Reason::securityError}, {"5.7.1", Reason::securityError},
    {"5.7.2", Reason::securityError}, {"5.7.3", Reason::securityError},
    {"5.7.4", Reason::securityError}, {"5.7.5", Reason::securityError},
    {"5.7.6", Reason::securityError}, {"5.7.7", Reason::securityError},
    {"5.7.8", Reason::securityError}, {"5.7.9", Reason::securityError},
    {"5.7.10", Reason::securityError}, {"5.7.11", Reason::securityError},
    {"5.7.13", Reason::suspend}, {"5.7.14", Reason::securityError},
    {"5.7.15", Reason::securityError}, {"5.7.16", Reason::mesgTooBig},
    {"5.7.17", Reason::hasMoved}, {"5.7.18", Reason::hasMoved},
    {"5.7.19", Reason::securityError}, {"5.7.20", Reason::securityError},
    {"5.7.21", Reason::securityError}, {"5.7.22", Reason::securityError},
    {"5.7.23", Reason::securityError}, {"5.7.24", Reason::securityError},
    {"5.7.25", Reason::blocked}, {"5.7.26", Reason::securityError}, {"5.7.27", Reason::notAccept},
};

// Reasons a status code names only tentatively: the wording may still say better.
constexpr Reason kTentative[] = {Reason::userUnknown, Reason::hostUnknown, Reason::systemError,
                                 Reason::securityError, Reason::networkError, Reason::expired};

// The SMTP commands the first pass distinguishes.
enum Cmd : unsigned { kConn = 1, kHelo = 2, kMail = 4, kRcpt = 8, kData = 16 };
constexpr unsigned kBeforeData = kConn | kHelo | kMail | kRcpt;

// The first pass (Sisimai's Reason::get): the reasons in order; the first whose rule holds wins.
// A rule holds when the status names its reason (byStatus) or the wording does (byWording),
// the latter only when the command the rejection answered is not in `wordingNotAt` (0: any)
// and, if `wordingOnlyAt` is set, is one of those. `needsStatus`: only for a notice with a
// status code.
struct FirstPassRule {
    Reason reason;
    bool needsStatus;
    bool byStatus;
    bool byWording;
    unsigned wordingNotAt;
    unsigned wordingOnlyAt;
};
constexpr FirstPassRule kFirstPass[] = {
    {Reason::mailboxFull, true, true, true, 0, 0},
    {Reason::mesgTooBig, false, true, true, 0, 0},    // not when the status says exceedlimit
    {Reason::exceedLimit, true, true, true, 0, 0},
    {Reason::suspend, true, false, true, 0, 0},
    {Reason::hasMoved, false, false, true, 0, 0},
    {Reason::noRelaying, false, false, true, kConn | kHelo, 0},
    {Reason::userUnknown, false, true, true, 0, kRcpt},  // status: unless other wording says more
    {Reason::filtered, false, false, true, kBeforeData, 0},  // also userunknown wording
    {Reason::rejected, false, true, true, 0, kMail | kData},
    {Reason::hostUnknown, false, true, true, 0, 0},   // status: unless the wording is network's
    {Reason::spamDetected, true, true, true, kBeforeData, 0},
    {Reason::tooManyConn, false, true, true, 0, 0},
    {Reason::blocked, false, true, true, 0, 0},
};

// The fallback pass (Sisimai's Reason::anotherone): wording alone, in this order.
constexpr Reason kFallbackOrder[] = {
    Reason::mailboxFull, Reason::spamDetected, Reason::policyViolation, Reason::virusDetected,
    Reason::noRelaying, Reason::securityError, Reason::systemError, Reason::networkError,
    Reason::suspend, Reason::expired, Reason::contentError, Reason::notAccept};

// Words that show which command a rejection answered, by priority: a server's own "in reply
// to" first; then a session transcript, whose furthest command is the one that failed (DATA is
// only sent once RCPT TO passed, RCPT TO once MAIL FROM did); then any mention.
struct CommandWord {
    std::string_view phrase;
    std::string_view command;
};
constexpr CommandWord kCommandWords[] = {
    {"in reply to rcpt to command", "RCPT"},
    {"in reply to mail from command", "MAIL"},
    {"in reply to end of data command", "DATA"},
    {"in reply to data command", "DATA"},
    {"in reply to helo command", "HELO"},
    {"in reply to ehlo command", "EHLO"},
    {"after rcpt to:", "RCPT"},
    {"after mail from:", "MAIL"},
    {"after end of data", "DATA"},
    {"after data", "DATA"},
    {"after initial connection", "CONN"},
    {"does not like recipient", "RCPT"},
    {"does not like sender", "MAIL"},
    {"failed on data command", "DATA"},
    {"failed after i sent the message", "DATA"},
    {"but greeting failed", "CONN"},
    {"smtp:rcpt ", "RCPT"},
    {">>> data", "DATA"},
    {">>> rcpt to:", "RCPT"},
    {">>> mail from:", "MAIL"},
    {"rcpt to", "RCPT"},
    {"mail from:", "MAIL"},
    {" rcpt command", "RCPT"},  // "SMTP error from remote server after RCPT command:"
    {" mail command", "MAIL"},
    {" data command", "DATA"},
};

// Sisimai's pseudo status for a reason when the server gave none ("5.0.911" for userunknown):
// the class from the reply, the detail from this table.
struct PseudoStatus {
    Reason reason;
    std::string_view detail;
};
constexpr PseudoStatus kPseudoStatus[] = {
    {Reason::blocked, "971"}, {Reason::contentError, "960"}, {Reason::exceedLimit, "923"},
    {Reason::expired, "947"}, {Reason::filtered, "910"}, {Reason::hasMoved, "916"},
    {Reason::hostUnknown, "912"}, {Reason::mailboxFull, "922"}, {Reason::mesgTooBig, "934"},
    {Reason::networkError, "944"}, {Reason::noRelaying, "909"}, {Reason::notAccept, "932"},
    {Reason::onHold, "901"}, {Reason::policyViolation, "972"}, {Reason::rejected, "918"},
    {Reason::securityError, "970"}, {Reason::spamDetected, "980"}, {Reason::suspend, "921"},
    {Reason::systemError, "930"}, {Reason::syntaxError, "902"}, {Reason::tooManyConn, "945"},
    {Reason::userUnknown, "911"}, {Reason::undefined, "900"}, {Reason::virusDetected, "971"},
};
// Detail used with class 4 only for these (Sisimai's temporary table); the others stay 5.
constexpr Reason kTemporaryPseudo[] = {
    Reason::blocked, Reason::contentError, Reason::expired, Reason::filtered, Reason::mailboxFull,
    Reason::networkError, Reason::notAccept, Reason::onHold, Reason::rejected,
    Reason::securityError, Reason::spamDetected, Reason::systemError, Reason::tooManyConn,
    Reason::undefined};

std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = mime::asciiLower(c);
    }
    return out;
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Does `pattern` (segments split by '*', each '*' one run of non-blank characters) match the
// text from `pos` on, the first segment starting exactly at `pos`?
bool matchFrom(std::string_view text, std::size_t pos, std::string_view pattern, bool anchoredEnd) {
    const std::size_t star = pattern.find('*');
    const std::string_view head = pattern.substr(0, star);
    if (text.substr(pos, head.size()) != head) return false;
    pos += head.size();
    if (star == std::string_view::npos) return !anchoredEnd || pos == text.size();
    const std::string_view rest = pattern.substr(star + 1);
    // One or more non-blank characters, then the rest.
    for (std::size_t end = pos + 1; end <= text.size() && !isBlank(text[end - 1]); ++end) {
        if (matchFrom(text, end, rest, anchoredEnd)) return true;
    }
    return false;
}

// The text in lower case with the set of its byte pairs, so that a phrase whose first two
// letters the text lacks is passed over without a search (most of the ~700 phrases).
struct Lowered {
    std::string text;
    std::bitset<65536> pairs;
    explicit Lowered(std::string_view s) : text(lowerCopy(s)) {
        for (std::size_t i = 0; i + 1 < text.size(); ++i) pairs.set(pairIndex(text[i], text[i + 1]));
    }
    static std::size_t pairIndex(char a, char b) {
        return static_cast<std::size_t>(static_cast<unsigned char>(a)) << 8 | static_cast<unsigned char>(b);
    }
};

bool phraseMatches(std::string_view lower, std::string_view phrase) {
    bool anchoredEnd = !phrase.empty() && phrase.back() == '$';
    if (anchoredEnd) phrase.remove_suffix(1);
    std::size_t skip = 0;  // a leading '*': a non-blank run before the first literal
    while (skip < phrase.size() && phrase[skip] == '*') ++skip;
    const std::string_view body = phrase.substr(skip);
    const std::string_view anchor = body.substr(0, body.find('*'));
    if (anchor.empty()) return false;
    for (std::size_t p = mime::findText(lower, anchor); p != std::string_view::npos;
         p = mime::findText(lower, anchor, p + 1)) {
        if (skip > 0 && (p == 0 || isBlank(lower[p - 1]))) continue;
        if (matchFrom(lower, p, body, anchoredEnd)) return true;
    }
    return false;
}

// phraseMatches, after a look at the byte pairs of the phrase's first literal run: a phrase
// with a pair the text lacks cannot match.
bool phraseMatches(const Lowered& lower, std::string_view phrase) {
    std::string_view lead = phrase;
    while (!lead.empty() && lead.front() == '*') lead.remove_prefix(1);
    for (std::size_t i = 0; i + 1 < lead.size() && lead[i + 1] != '*' && lead[i + 1] != '$'; ++i) {
        if (!lower.pairs.test(Lowered::pairIndex(lead[i], lead[i + 1]))) return false;
    }
    return phraseMatches(std::string_view(lower.text), phrase);
}

// The wording of one reason: Sisimai's vetoes ('!' removed), then Sisimai's phrases and
// campaignd's own. Built once from the tables, so that a lookup reads only its reason's
// phrases, not all ~700.
struct ReasonPhrases {
    std::vector<std::string_view> vetoes;
    std::vector<std::string_view> phrases;
};

const ReasonPhrases& phrasesOf(Reason r) {
    static const std::array<ReasonPhrases, kReasons> byReason = [] {
        std::array<ReasonPhrases, kReasons> out;
        for (const Phrase& p : kSisimaiPhrases) {
            if (p.text.empty()) continue;
            ReasonPhrases& rp = out[static_cast<std::size_t>(p.reason)];
            if (p.text.front() == '!') {
                rp.vetoes.push_back(p.text.substr(1));
            } else {
                rp.phrases.push_back(p.text);
            }
        }
        for (const Phrase& p : kOwnPhrases) out[static_cast<std::size_t>(p.reason)].phrases.push_back(p.text);
        return out;
    }();
    return byReason[static_cast<std::size_t>(r)];
}

// Which reasons' wording the diagnostic holds, looked up per reason when a rule asks (most
// outcomes are decided by their status before any wording is read).
class Words {
public:
    explicit Words(const Lowered& lower) : lower_(lower) {}
    bool has(Reason r) const {
        const auto index = static_cast<std::size_t>(r);
        if (!checked_.test(index)) {
            checked_.set(index);
            if (matches(r)) found_.set(index);
        }
        return found_.test(index);
    }

private:
    bool matches(Reason r) const {
        if (lower_.text.empty()) return false;
        const ReasonPhrases& own = phrasesOf(r);
        for (std::string_view veto : own.vetoes) {
            if (phraseMatches(lower_, veto)) return false;
        }
        for (std::string_view phrase : own.phrases) {
            if (phraseMatches(lower_, phrase)) return true;
        }
        return false;
    }

    const Lowered& lower_;
    mutable ReasonSet checked_;
    mutable ReasonSet found_;
};

bool isTentative(Reason r) {
    for (Reason t : kTentative) {
        if (t == r) return true;
    }
    return false;
}

std::optional<Reason> statusReason(std::string_view status) {
    for (const StatusReason& s : kStatusReasons) {
        if (s.status == status) return s.reason;
    }
    return std::nullopt;
}

unsigned commandBit(std::string_view command) {
    if (command == "CONN") return kConn;
    if (command == "HELO" || command == "EHLO") return kHelo;
    if (command == "MAIL") return kMail;
    if (command == "RCPT") return kRcpt;
    if (command == "DATA") return kData;
    return 0;
}

std::optional<Reason> serverShape(const Lowered& lower) {
    if (lower.text.empty()) return std::nullopt;
    for (const Phrase& p : kServerShapes) {
        if (phraseMatches(lower, p.text)) return p.reason;
    }
    return std::nullopt;
}

// The answering server's domain (lower case) is `domain` or one under it ("service101.mimecast.com").
bool hostIn(std::string_view host, std::string_view domain) {
    return host.size() >= domain.size() && host.substr(host.size() - domain.size()) == domain &&
           (host.size() == domain.size() || host[host.size() - domain.size() - 1] == '.');
}

std::optional<Reason> remoteHostShape(const Outcome& o, const Lowered& lower) {
    if (o.remoteHost.empty() || o.smtpCode == 0 || lower.text.empty()) return std::nullopt;
    const std::string host = lowerCopy(o.remoteHost);
    for (const RemoteHostShape& h : kRemoteHostShapes) {
        if (h.code == o.smtpCode && hostIn(host, h.domain) && mime::containsText(lower.text, h.phrase)) {
            return h.reason;
        }
    }
    return std::nullopt;
}

bool firstPassHolds(const FirstPassRule& rule, const Outcome& o, std::optional<Reason> byCode,
                    const Words& words, unsigned cmd, std::optional<Reason> shape) {
    if (shape == rule.reason) return true;
    if (rule.needsStatus && o.status.empty()) return false;
    const bool codeSays = rule.byStatus && byCode == rule.reason;
    const bool commandAllows = (rule.wordingNotAt & cmd) == 0 &&
                               (rule.wordingOnlyAt == 0 || (rule.wordingOnlyAt & cmd) != 0);
    switch (rule.reason) {
    case Reason::mesgTooBig:
        if (codeSays) return true;
        return byCode != Reason::exceedLimit && words.has(Reason::mesgTooBig);
    case Reason::userUnknown:
        if (byCode == Reason::suspend) return false;
        if (codeSays) {
            for (Reason other : {Reason::noRelaying, Reason::blocked, Reason::mailboxFull,
                                 Reason::hasMoved, Reason::rejected, Reason::notAccept}) {
                if (words.has(other)) return false;
            }
            return true;
        }
        return commandAllows && words.has(Reason::userUnknown);
    case Reason::filtered:
        if (byCode == Reason::suspend) return false;
        if (byCode == Reason::filtered) return words.has(Reason::filtered) || words.has(Reason::userUnknown);
        return commandAllows && (words.has(Reason::filtered) || words.has(Reason::userUnknown));
    case Reason::rejected:
        if (codeSays) return true;
        if (cmd == kMail) return words.has(Reason::rejected);
        if (cmd == kData) return byCode != Reason::userUnknown && words.has(Reason::rejected);
        return (!byCode || byCode == Reason::securityError || byCode == Reason::systemError) &&
               words.has(Reason::rejected);
    case Reason::hostUnknown:
        if (byCode == Reason::hostUnknown) return !words.has(Reason::networkError);
        return words.has(Reason::hostUnknown);
    default:
        return codeSays || (rule.byWording && commandAllows && words.has(rule.reason));
    }
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
           reason == Reason::hasMoved || reason == Reason::notAccept;
}

std::string_view smtpCommandIn(std::string_view text) {
    if (text.empty()) return {};
    std::string lower;  // lower case, white space runs as one space (a line may break a phrase)
    lower.reserve(text.size());
    for (char c : text) {
        if (isBlank(c)) {
            if (!lower.empty() && lower.back() != ' ') lower.push_back(' ');
        } else {
            lower.push_back(mime::asciiLower(c));
        }
    }
    static const scan::PhraseSet words([] {
        std::vector<std::string_view> phrases;
        for (const CommandWord& w : kCommandWords) phrases.push_back(w.phrase);
        return phrases;
    }());
    const std::size_t k = words.firstListed(lower);
    return k == scan::PhraseSet::npos ? std::string_view() : kCommandWords[k].command;
}

std::string pseudoStatus(Reason reason, bool temporary) {
    bool fourOk = false;
    for (Reason r : kTemporaryPseudo) fourOk = fourOk || r == reason;
    for (const PseudoStatus& p : kPseudoStatus) {
        if (p.reason == reason) {
            return std::string(temporary && fourOk ? "4.0." : "5.0.") + std::string(p.detail);
        }
    }
    return {};
}

Reason classify(const Outcome& o) {
    if (o.status.size() >= 2 && o.status[0] == '2' && o.status[1] == '.') return Reason::delivered;
    const std::optional<Reason> byCode = statusReason(o.status);
    const Lowered lower(o.diagnostic);
    const Words words(lower);
    const unsigned cmd = commandBit(o.command);
    const std::optional<Reason> shape = serverShape(lower);
    if (shape && !isTentative(*shape)) return *shape;
    if (const std::optional<Reason> byHost = remoteHostShape(o, lower)) return *byHost;
    // Sisimai's first pass reads only what an SMTP server said (a Diagnostic-Code of type smtp,
    // x-postfix, which its Postfix module reads as smtp, or none); another agent's words (x-unix,
    // x-notes, a filter's own type) go to the wording alone, even when the status names a reason.
    const bool smtpDiagnostic =
        o.diagnosticType.empty() || o.diagnosticType == "smtp" || o.diagnosticType == "x-postfix";
    if (smtpDiagnostic) {
        for (const FirstPassRule& rule : kFirstPass) {
            if (firstPassHolds(rule, o, byCode, words, cmd, shape)) return rule.reason;
        }
    }
    if (shape) return *shape;
    if (byCode && !isTentative(*byCode) && smtpDiagnostic) return *byCode;
    for (Reason r : kFallbackOrder) {
        if (words.has(r)) return r;
    }
    if (byCode) return *byCode;
    if (o.status.size() >= 3 && (o.status[0] == '4' || o.status[0] == '5') && o.status[1] == '.') {
        if (o.status[2] == '6') return Reason::contentError;
        if (o.status[2] == '7') return Reason::securityError;
    }
    if (o.smtpCode >= 400 && o.smtpCode % 100 <= 7 && (o.smtpCode / 10) % 10 == 0) {
        return Reason::syntaxError;  // 500-507, 400-407: the command was not understood
    }
    if (o.delayed) return Reason::expired;
    if (cmd == kHelo) return Reason::blocked;
    if (words.has(Reason::vacation)) return Reason::vacation;
    return o.diagnostic.empty() ? Reason::undefined : Reason::onHold;
}

Reason classify(std::string_view status, std::string_view diagnostic) {
    Outcome o;
    o.status = status;
    o.diagnostic = diagnostic;
    return classify(o);
}

}  // namespace campaignd::bounce
