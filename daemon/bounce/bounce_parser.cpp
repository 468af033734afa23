// bounce_parser.cpp: what one message says about deliveries. Order of recognition: an RFC 3464
// delivery-status part (per-recipient blocks), an RFC 5965 feedback report, a plain-text notice
// recognised by the wording of the known MTAs (qmail, Exim, Sendmail, Exchange, Gmail, Yahoo,
// Postfix) or by a mailer-daemon sender, and only then a challenge-response request or an
// auto-reply (bounces carry Auto-Submitted: auto-replied too). A read receipt (RFC 8098 MDN)
// is recognised before the text notices; a DSN reporting only deliveries is a receipt. Campaign matching data come from the returned message
// (attached, or quoted as text after a "copy of the message" marker) and the notice itself.
#include "bounce/bounce_parser.h"

#include "bounce/mime_walk.h"
#include "bounce/text_scan.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <exception>

namespace campaignd::bounce {

namespace {

using mime::Headers;
using mime::toLower;
using mime::trim;
using namespace scan;


Action actionFrom(std::string_view value) {
    std::string a = toLower(trim(value));
    if (a.rfind("delayed", 0) == 0) return Action::delayed;
    if (a.rfind("delivered", 0) == 0) return Action::delivered;
    if (a.rfind("relayed", 0) == 0) return Action::relayed;
    if (a.rfind("expanded", 0) == 0) return Action::expanded;
    return Action::failed;
}

bool isTemporary(const BounceResult& r) {
    if (!r.status.empty()) return r.status[0] == '4';
    return r.smtpCode / 100 == 4;
}

// "5.1.1" but not "5.0.0", "5.7.17": the one shape of a status in the server's words that
// Sisimai lets override the report's Status field.
bool isSpecificStatus(std::string_view s) {
    return s.size() == 5 && (s[0] == '4' || s[0] == '5') && s[1] == '.' && s[2] >= '1' && s[2] <= '9' &&
           s[3] == '.' && s[4] >= '1' && s[4] <= '9';
}

// The first failure status (4.x.x, 5.x.x) in a text notice's words: a "2.1.5" there is a
// version number (a quoted "X-Mailman-Version: 2.1.5"), not a success.
std::string failureStatusIn(std::string_view text) {
    std::size_t from = 0;
    while (from < text.size()) {
        std::string found = findStatus(text.substr(from));
        if (found.empty() || found[0] != '2') return found;
        from = text.find(found, from) + found.size();
    }
    return {};
}

bool saysTemporary(const BounceResult& r) {
    if (r.smtpCode != 0) return r.smtpCode / 100 == 4;
    const std::string lower = toLower(r.diagnostic);
    return lower.find("temporar") != std::string::npos || lower.find("persistent") != std::string::npos;
}

// The SMTP command a notice's own text names ("in reply to RCPT TO command"), for a diagnostic
// that does not name it: looked for once, and only when a result needs it (most diagnostics
// name theirs, and the notice's text is the longest one the parser reads).
class NoticeCommand {
public:
    explicit NoticeCommand(std::string_view text = {}) : text_(text) {}
    std::string_view get() const {
        if (!looked_) {
            command_ = smtpCommandIn(text_);
            looked_ = true;
        }
        return command_;
    }

private:
    std::string_view text_;
    mutable std::string_view command_;
    mutable bool looked_ = false;
};

// Classifies a result; `noticeCommand` is the SMTP command the notice's text names, for a
// diagnostic that does not name it.
void finish(BounceResult& r, const NoticeCommand& noticeCommand = NoticeCommand(),
            std::string_view diagnosticType = {}) {
    if (r.action == Action::delivered || r.action == Action::relayed ||
        r.action == Action::expanded) {
        r.reason = Reason::delivered;
    } else if (r.action == Action::complaint) {
        r.reason = Reason::feedback;
    } else {
        const std::string inDiagnostic = findStatus(r.diagnostic);
        if (isSpecificStatus(inDiagnostic)) r.status = inDiagnostic;
        if (r.smtpCommand.empty()) r.smtpCommand = std::string(smtpCommandIn(r.diagnostic));
        if (r.smtpCommand.empty()) r.smtpCommand = std::string(noticeCommand.get());
        Outcome o;
        o.status = r.status;
        o.diagnostic = r.diagnostic;
        o.command = r.smtpCommand;
        o.smtpCode = r.smtpCode;
        o.delayed = r.action == Action::delayed;
        o.diagnosticType = diagnosticType;
        o.remoteHost = r.remoteMta;
        r.reason = classify(o);
        if (r.status.empty()) {
            r.status = pseudoStatus(r.reason, saysTemporary(r));
            r.statusDerived = !r.status.empty();
        }
    }
    r.hard = r.action == Action::failed && isHard(r.reason) && !isTemporary(r);
}

// "smtp; 550 ..." -> "smtp", "X-Postfix; ..." -> "x-postfix"; "" when the field names no type.
std::string diagnosticTypeOf(std::string_view value) {
    const std::size_t semi = value.find(';');
    if (semi == std::string_view::npos || semi >= 16) return {};
    return toLower(trim(value.substr(0, semi)));
}

// What the notice tells about the message it returns.
struct Returned {
    std::vector<std::string> envelopeCandidates;  // most trusted first
    std::string messageId;
    std::optional<std::int64_t> campaignHeader;
    std::vector<std::string> subjects;  // returned message first, then the notice
    std::string to;
};

void learnFromHeaders(const Headers& h, Returned& out) {
    std::string rp = addressIn(h.get("Return-Path"));
    if (!rp.empty()) out.envelopeCandidates.push_back(rp);
    if (out.messageId.empty()) {
        std::string id = std::string(trim(h.get("Message-ID")));
        if (!id.empty() && id.size() < 1000) out.messageId = collapse(id);
    }
    if (!out.campaignHeader) out.campaignHeader = positiveNumber(h.get("X-Campaign-Id"));
    std::string subject = h.get("Subject");
    if (!subject.empty()) out.subjects.push_back(mime::decodeHeaderText(subject));
    if (out.to.empty()) out.to = addressIn(mime::decodeHeaderText(h.get("To")));
}

// Markers after which a text notice quotes the returned message (or its headers).
constexpr std::array<std::string_view, 18> kCopyMarkers = {
    "------ this is a copy of the message",
    "--- below this line is a copy of the message",
    "----- original message -----",
    "original message headers:",
    "------ original message",
    "unsent message below",
    "----- the header of the original message is following",
    "original message follows",
    "------ the original message",
    "--- the header of the original message",
    "----- message header follows -----",
    "-----original message-----",
    "----- returned message -----",
    "a copy of the original message below this line",
    "below is a copy of the original message",
    "returned mail follows",
    "lines of the message follows",  // "-- The header and top 20 lines of the message follows --"
    "your message reads (in part):",
};

std::size_t findCopyStart(std::string_view lowerText) {
    static const PhraseSet markers(kCopyMarkers);
    return markers.firstOffset(lowerText);
}

// A quoted copy of the returned message after `copyStart`: its header block.
void learnFromQuotedCopy(std::string_view text, std::size_t copyStart, Returned& out) {
    if (copyStart == std::string_view::npos) return;
    std::size_t eol = text.find('\n', copyStart);
    if (eol == std::string_view::npos) return;
    std::size_t p = eol + 1;
    while (p < text.size() && (text[p] == '\n' || text[p] == '\r' || text[p] == ' ' || text[p] == '\t')) {
        ++p;
    }
    Headers h;
    mime::readHeaderBlock(text.substr(p), h);
    if (h.fields.empty()) return;
    learnFromHeaders(h, out);
}

struct Signature {
    std::string_view phrase;  // lower case
    std::string_view format;
};

constexpr Signature kSignatures[] = {
    {"this is the qmail-send program", "qmail"},
    {"delivery has failed to these recipients or groups", "exchange"},
    {"the following addresses had permanent fatal errors", "sendmail"},
    {"----- transcript of session follows -----", "sendmail"},
    {"sorry, we were unable to deliver your message to the following address", "yahoo"},
    {"this message was created automatically by mail delivery software", "exim"},
    {"could not be delivered to one or more of its recipients", "exim"},
    {"delivery to the following recipient failed permanently", "gmail"},
    {"delivery to the following recipient has been delayed", "gmail"},
    {"** address not found **", "gmail"},
    {"your message wasn't delivered to", "gmail"},
    {"this is the mail system at host", "postfix"},
};

// Words after which a notice with no recipient list of a known shape names the recipient it
// failed ("Your message to a@b could not be delivered", "Failed Recipient: a@b"), after
// Sisimai's fallback for unknown servers (RFC3464.pm). Lower case.
constexpr std::string_view kRecipientLeads[] = {
    "addressed to ", "could not be delivered to:", "not be delivered to ", "not delivered to ",
    "delivery failed: ", "did not reach the following recipient:", "error-for: ",
    "failed recipient:", "failed to deliver to ", "intended recipient:", "mailbox is full: ",
    "rcpt to:", "the following recipients returned permanent errors:", "the following message to ",
    "unknown user:", "undeliverable to ", "undeliverable address:", "you sent mail to ",
    "your message to "};

bool looksLikeMailerDaemon(std::string_view from) {
    std::string f = toLower(from);
    return f.find("mailer-daemon") != std::string::npos || f.find("postmaster") != std::string::npos ||
           f.find("mail delivery") != std::string::npos || f.find("mdaemon@") != std::string::npos;
}

bool subjectSaysBounce(std::string_view subjectLower) {
    for (std::string_view s : {"undeliver", "returned mail", "delivery status notification",
                               "failure notice", "delivery failure", "mail delivery failed",
                               "delivery failed", "returned to sender", "non remis",
                               "unzustellbar", "delayed mail", "warning: message", "delivery warning",
                               "non delivery", "non-delivery", "user unknown", "rejected mail"}) {
        if (subjectLower.find(s) != std::string_view::npos) return true;
    }
    return false;
}

std::string stripHtml(std::string_view html) {
    std::string out;
    out.reserve(html.size());
    bool inTag = false;
    for (std::size_t i = 0; i < html.size(); ++i) {
        char c = html[i];
        if (inTag) {
            if (c == '>') inTag = false;
            continue;
        }
        if (c == '<') {
            std::string_view rest = html.substr(i + 1, 4);
            std::string tag = toLower(rest);
            if (tag.rfind("br", 0) == 0 || tag.rfind("p", 0) == 0 || tag.rfind("/p", 0) == 0 ||
                tag.rfind("div", 0) == 0 || tag.rfind("/div", 0) == 0 || tag.rfind("tr", 0) == 0) {
                out.push_back('\n');
            }
            inTag = true;
            continue;
        }
        if (c == '&') {
            for (auto [ent, rep] : {std::pair<std::string_view, char>{"&lt;", '<'}, {"&gt;", '>'},
                                    {"&amp;", '&'}, {"&nbsp;", ' '}, {"&quot;", '"'}, {"&#64;", '@'}}) {
                if (html.substr(i, ent.size()) == ent) {
                    out.push_back(rep);
                    i += ent.size() - 1;
                    c = 0;
                    break;
                }
            }
            if (c == 0) continue;
        }
        out.push_back(c);
    }
    return out;
}

struct TextBlock {
    std::string recipient;
    std::string text;  // the rest of the address line and the lines under it
};

bool isExcluded(const std::string& address, const std::vector<std::string>& excluded) {
    std::string lower = toLower(address);
    std::size_t at = lower.find('@');
    std::string_view local = std::string_view(lower).substr(0, at);
    if (local == "mailer-daemon" || local == "postmaster" || local == "noreply" ||
        local == "no-reply") {
        return true;
    }
    return std::any_of(excluded.begin(), excluded.end(),
                       [&](const std::string& e) { return toLower(e) == lower; });
}

// Lines that start with an address (optionally in <>, optionally followed by ':'), and the
// lines under each up to a blank line or the next such line: qmail, Postfix, Yahoo, Exim,
// Sendmail and Exchange all list failed recipients this way.
std::vector<TextBlock> addressBlocks(std::string_view region, const std::vector<std::string>& excluded) {
    std::vector<TextBlock> blocks;
    bool open = false;
    std::size_t pos = 0;
    while (pos < region.size()) {
        std::size_t eol = region.find('\n', pos);
        std::size_t next = eol == std::string_view::npos ? region.size() : eol + 1;
        std::string_view line = trim(region.substr(pos, next - pos));
        pos = next;
        if (line.empty()) {
            open = false;
            continue;
        }
        std::string_view rest = line;
        bool bracket = false;
        if (rest.front() == '<') {
            rest.remove_prefix(1);
            bracket = true;
        }
        bool isAddressLine = false;
        const auto found = findAddress(rest);
        const std::string_view before = found ? rest.substr(0, found->begin) : std::string_view();
        // Exchange writes "SMTP=a@b" or "[SMTP:a@b]" (findAddress leaves the type out).
        if (found && (before.empty() || before == "SMTP=" || before == "SMTP:" || before == "[SMTP:" ||
                      before == "smtp=" || before == "smtp:")) {
            std::string_view after = rest.substr(found->end);
            if (bracket && !after.empty() && after.front() == '>') after.remove_prefix(1);
            if (!after.empty() && after.front() == ':') after.remove_prefix(1);
            // "addr...", Sendmail's "<addr>... User unknown"
            while (!after.empty() && after.front() == '.') after.remove_prefix(1);
            if (after.empty() || after.front() == ' ' || after.front() == '\t' || after.front() == '(') {
                isAddressLine = true;
                if (!isExcluded(found->address, excluded)) {
                    blocks.push_back(TextBlock{found->address, std::string(trim(after))});
                    open = true;
                } else {
                    open = false;
                }
            }
        }
        if (!isAddressLine && open) {
            blocks.back().text.append("\n").append(line);
        }
    }
    return blocks;
}

// The addresses that follow a recipient lead in the region (`lower` is the region in lower
// case, byte for byte), in the order they stand, without the excluded ones.
std::vector<TextBlock> leadAddresses(std::string_view region, std::string_view lower,
                                     const std::vector<std::string>& excluded) {
    static const PhraseSet leads(kRecipientLeads);
    std::vector<std::pair<std::size_t, std::string>> found;  // offset, address
    for (const auto& [k, p] : leads.all(lower)) {
        std::size_t a = p + leads[k].size();
        while (a < region.size() && (region[a] == ' ' || region[a] == '\t' || region[a] == '\r' ||
                                     region[a] == '\n' || region[a] == '<' || region[a] == '"' ||
                                     region[a] == '\'')) {
            ++a;
        }
        // An address is at most 64 + 1 + 255 bytes: no search beyond it for one standing here.
        const auto address = findAddress(region.substr(0, std::min(region.size(), a + 330)), a);
        if (!address || address->begin != a || isExcluded(address->address, excluded)) continue;
        found.emplace_back(a, address->address);
    }
    std::sort(found.begin(), found.end());
    std::vector<TextBlock> blocks;
    for (auto& [offset, address] : found) {
        const std::string key = toLower(address);
        if (std::none_of(blocks.begin(), blocks.end(), [&](const TextBlock& b) { return toLower(b.recipient) == key; })) {
            blocks.push_back(TextBlock{std::move(address), {}});
        }
        if (blocks.size() >= 50) break;
    }
    return blocks;
}

// The line holding the first status or reply code in the region, with the lines under it.
std::string codeLine(std::string_view region) {
    std::size_t pos = 0;
    while (pos < region.size()) {
        std::size_t eol = region.find('\n', pos);
        std::size_t next = eol == std::string_view::npos ? region.size() : eol + 1;
        std::string_view line = region.substr(pos, next - pos);
        if (!failureStatusIn(line).empty() || findSmtpCode(line) >= 400) {
            std::string out(line);
            std::size_t p = next;
            for (int k = 0; k < 3 && p < region.size(); ++k) {
                std::size_t e = region.find('\n', p);
                std::size_t n = e == std::string_view::npos ? region.size() : e + 1;
                std::string_view l = region.substr(p, n - p);
                if (trim(l).empty()) break;
                out.append(l);
                p = n;
            }
            return out;
        }
        pos = next;
    }
    return {};
}

std::string findRemoteMta(std::string_view text) {
    std::string lower = toLower(text);
    for (std::string_view lead : {"host ", "while talking to ", "remote host ", "remote server "}) {
        std::size_t p = mime::findText(lower, lead);
        while (p != std::string::npos) {
            std::size_t s = p + lead.size();
            std::size_t e = s;
            while (e < lower.size() && isDomainChar(static_cast<unsigned char>(lower[e]))) ++e;
            std::string_view name = std::string_view(lower).substr(s, e - s);
            while (!name.empty() && name.back() == '.') name.remove_suffix(1);
            std::size_t after = e;
            while (after < lower.size() && lower[after] == ' ') ++after;
            bool looksLikeHost = name.find('.') != std::string_view::npos &&
                                 (after < lower.size() && (lower[after] == '[' || lower[after] == ':' ||
                                                           lower[after] == '.' || lead != "host "));
            if (looksLikeHost) return std::string(name);
            p = mime::findText(lower, lead, p + 1);
        }
    }
    return {};
}

struct Notice {
    std::string text;    // the notice's own text (text/plain, else stripped HTML), UTF-8
    std::string region;  // the part before the quoted copy of the returned message
    std::string lower;   // region in lower case
    std::size_t copyStart = std::string::npos;  // where the quoted copy starts in text, or npos
};

Notice noticeText(const mime::Walk& walk) {
    Notice n;
    std::string html;
    for (const mime::Leaf& leaf : walk.leaves) {
        if (leaf.message != 0) continue;
        if (leaf.contentType == "text/plain") {
            if (n.text.size() < mime::kMaxPartBytes) n.text.append(leaf.body).append("\n");
        } else if (leaf.contentType == "text/html" && html.empty()) {
            html = stripHtml(leaf.body);
        }
    }
    if (n.text.empty()) n.text = std::move(html);
    n.lower = toLower(n.text);
    n.copyStart = findCopyStart(n.lower);
    n.region = n.text.substr(0, n.copyStart == std::string::npos ? n.text.size() : n.copyStart);
    n.lower.resize(n.region.size());
    return n;
}

bool saysDelayed(std::string_view lowerRegion, std::string_view lowerSubject) {
    for (std::string_view s : {"delayed mail", "has been delayed", "will continue trying",
                               "still being retried", "will be retried", "this is a warning",
                               "warning: message", "no action is required on your part",
                               "delivery delayed"}) {
        if (mime::containsText(lowerRegion, s) || mime::containsText(lowerSubject, s)) {
            return true;
        }
    }
    return false;
}

// Challenge-response systems: a header field their requests carry, a subject they write, or the
// request's wording. Looked at only for a message that is no report or notice.
constexpr std::string_view kChallengeHeaders[] = {
    "X-TMDA-Confirm-Address", "X-TMDA-Fingerprint", "X-AskVersion", "X-AskInfo", "X-Boxbe-Challenge",
    "X-Mailblocks", "X-SpamArrest-Challenge", "X-Challenge", "X-ChoiceMail-Registration-Request"};
constexpr std::string_view kChallengeSubjects[] = {
    "please confirm your message", "please confirm your e-mail", "please confirm your email",
    "confirm your message", "verify your email address to", "authentication required for your message",
    "[ask] ", "spam arrest", "challenge-response", "your message is awaiting verification",
    "your email requires verification", "please verify your message"};
constexpr std::string_view kChallengeWords[] = {
    "please confirm you are human", "please confirm that you are human", "confirm that you are a human",
    "verify that you are a human", "verify that you are a real person", "prove that you are a human",
    "i use a challenge-response", "uses a challenge-response", "challenge/response",
    "this is an automated message from tmda", "tmda (tagged message delivery agent)",
    "before your message can be delivered, please", "to have your message delivered, please",
    "your message has been held until you confirm", "simply reply to this message to confirm",
    "my spam filter requires", "i am protecting myself from receiving junk mail"};

bool isChallenge(const Headers& top, std::string_view subjectLower, std::string_view noticeLower) {
    if (toLower(top.get("X-Delivery-Agent")).find("tmda") != std::string::npos) return true;
    for (std::string_view h : kChallengeHeaders) {
        if (top.has(h)) return true;
    }
    for (std::string_view s : kChallengeSubjects) {
        if (subjectLower.find(s) != std::string_view::npos) return true;
    }
    static const PhraseSet words(kChallengeWords);
    return words.firstOffset(noticeLower) != PhraseSet::npos;
}

// Blank or white-space lines before the header block (a saved or pasted message) are not part
// of it: read as the header block, they would hide every header.
std::string_view skipLeadIn(std::string_view raw) {
    for (int lines = 0; lines < 100 && !raw.empty(); ++lines) {
        const std::size_t eol = raw.find('\n');
        const std::string_view line = raw.substr(0, eol);
        if (!trim(line).empty()) break;
        if (eol == std::string_view::npos) return raw;
        raw.remove_prefix(eol + 1);
    }
    return raw;
}

}  // namespace

ParsedMessage parseMessage(std::string_view raw) {
    ParsedMessage out;
    try {
        std::vector<std::string> errors;
        if (raw.size() > kMaxParseBytes) {
            errors.push_back("message of " + std::to_string(raw.size()) + " bytes; only the first " +
                             std::to_string(kMaxParseBytes) + " read");
            raw = raw.substr(0, kMaxParseBytes);
        }
        if (raw.find('\0') != std::string_view::npos) {
            errors.push_back("NUL bytes in the message");
        }
        if (trim(raw).empty()) {
            out.format = "unknown";
            out.error = "empty message";
            return out;
        }
        raw = skipLeadIn(raw);
        mime::Walk walk = mime::walkMessage(raw);
        if (!walk.error.empty()) errors.push_back(walk.error);
        const Headers& top = walk.messages[0].headers;
        if (top.fields.empty()) errors.push_back("no header fields");

        // Returned message (attached ones first), then the notice's own data.
        Returned returned;
        for (std::size_t i = 1; i < walk.messages.size(); ++i) {
            learnFromHeaders(walk.messages[i].headers, returned);
        }
        Notice notice = noticeText(walk);
        if (walk.messages.size() == 1) learnFromQuotedCopy(notice.text, notice.copyStart, returned);
        const std::string noticeSubject = mime::decodeHeaderText(top.get("Subject"));
        const NoticeCommand noticeCommand(notice.region);
        const std::string subjectLower = toLower(noticeSubject);

        std::vector<std::string> extraEnvelope;  // from the report fields
        std::vector<BounceResult> results;

        // 1. RFC 3464.
        bool sawDsn = false;
        std::optional<std::vector<TextBlock>> noticeBlocks;  // the notice's address lines, when needed
        for (const mime::Leaf& leaf : walk.leaves) {
            if (leaf.contentType != "message/delivery-status" &&
                leaf.contentType != "message/global-delivery-status") {
                continue;
            }
            if (sawDsn && leaf.message != 0) continue;  // a forwarded DSN inside ours
            sawDsn = true;
            std::vector<Fields> blocks = parseFieldBlocks(leaf.body);
            for (std::size_t b = 0; b < blocks.size(); ++b) {
                const Fields& f = blocks[b];
                if (b == 0 || f.has("x-postfix-sender") || f.has("original-envelope-id")) {
                    std::string sender = addressIn(afterType(f.get("x-postfix-sender")));
                    if (!sender.empty()) extraEnvelope.push_back(sender);
                    std::string envid = addressIn(f.get("original-envelope-id"));
                    if (!envid.empty()) extraEnvelope.push_back(envid);
                }
                if (!f.has("final-recipient") && !f.has("original-recipient")) continue;
                BounceResult r;
                r.recipient = addressIn(afterType(f.get("final-recipient")));
                if (r.recipient.empty()) r.recipient = addressIn(afterType(f.get("original-recipient")));
                if (r.recipient.empty()) continue;
                r.action = actionFrom(f.get("action"));
                r.diagnostic = collapse(afterType(f.get("diagnostic-code")));
                r.status = findStatus(f.get("status"));
                std::string fromDiagnostic = findStatus(r.diagnostic);
                if (r.status.empty()) {
                    r.status = fromDiagnostic;
                } else if (!fromDiagnostic.empty() && fromDiagnostic[0] == r.status[0] &&
                           (r.status.size() >= 4 && r.status.substr(1) == ".0.0")) {
                    r.status = fromDiagnostic;  // "5.0.0" with "550 5.1.1 ..." in the text
                }
                r.smtpCode = findSmtpCode(r.diagnostic);
                r.remoteMta = collapse(afterType(f.get("remote-mta")), 255);
                // No Diagnostic-Code: the notice's first line with a code, else the words after
                // the Status code ("5.0.0 (recipient reached disk quota)"), else what the
                // notice's text says beside this recipient ("a@b: Domain does not exist").
                if (r.diagnostic.empty() && !notice.region.empty()) {
                    r.diagnostic = collapse(codeLine(notice.region));
                }
                if (r.diagnostic.empty()) {
                    const std::string status = f.get("status");
                    const std::string code = findStatus(status);
                    if (!code.empty()) r.diagnostic = collapse(status.substr(status.find(code) + code.size()));
                }
                if (r.diagnostic.empty() && !notice.region.empty()) {
                    if (!noticeBlocks) noticeBlocks = addressBlocks(notice.region, {});
                    const std::string key = toLower(r.recipient);
                    for (const TextBlock& b : *noticeBlocks) {
                        if (toLower(b.recipient) == key && !b.text.empty()) {
                            r.diagnostic = collapse(b.text);
                            break;
                        }
                    }
                }
                finish(r, noticeCommand, diagnosticTypeOf(f.get("diagnostic-code")));
                results.push_back(std::move(r));
            }
        }
        if (sawDsn) {
            out.format = "rfc3464";
            out.isBounce = true;
            if (results.empty()) errors.push_back("delivery-status part without a recipient");
        }

        // 2. RFC 5965.
        bool arf = walk.reportType == "feedback-report";
        for (const mime::Leaf& leaf : walk.leaves) {
            if (leaf.contentType != "message/feedback-report" || (!results.empty() && !arf)) continue;
            arf = true;
            std::vector<Fields> blocks = parseFieldBlocks(leaf.body);
            Fields f;
            for (const Fields& b : blocks) f.list.insert(f.list.end(), b.list.begin(), b.list.end());
            std::string mailFrom = addressIn(f.get("original-mail-from"));
            if (!mailFrom.empty()) extraEnvelope.insert(extraEnvelope.begin(), mailFrom);
            BounceResult r;
            r.recipient = addressIn(f.get("original-rcpt-to"));
            if (r.recipient.empty()) r.recipient = returned.to;
            r.action = Action::complaint;
            std::string type = collapse(f.get("feedback-type"), 64);
            r.diagnostic = "feedback-type: " + (type.empty() ? std::string("abuse") : type);
            std::string ua = collapse(f.get("user-agent"), 200);
            if (!ua.empty()) r.diagnostic += "; user-agent: " + ua;
            r.remoteMta = collapse(f.get("reporting-mta").empty() ? f.get("source-ip")
                                                                   : std::string(afterType(f.get("reporting-mta"))),
                                   255);
            finish(r);
            results.push_back(std::move(r));
            break;
        }
        // Microsoft's older complaint report (JMRP, Hotmail and Outlook.com): no
        // feedback-report part, the message complained of attached (Sisimai's Feedback-Loop
        // module reads it too). The sender and subject are Microsoft's own.
        bool jmrp = false;
        if (!arf && !sawDsn && addressIn(top.get("From")) == "staff@hotmail.com" &&
            subjectLower.rfind("complaint about message from", 0) == 0 && !returned.to.empty()) {
            BounceResult r;
            r.recipient = returned.to;
            r.action = Action::complaint;
            r.diagnostic = "feedback-type: abuse; user-agent: Microsoft JMRP";
            finish(r);
            results.push_back(std::move(r));
            arf = jmrp = true;
        }
        if (arf) {
            out.format = jmrp ? "jmrp" : "arf";
            out.isComplaint = true;
            out.isBounce = false;
            if (results.empty()) {
                errors.push_back("feedback report without a message/feedback-report part");
                BounceResult r;
                r.recipient = returned.to;
                r.action = Action::complaint;
                r.diagnostic = "feedback-type: abuse";
                finish(r);
                results.push_back(std::move(r));
            }
        }

        // A read receipt (RFC 8098): a disposition notification saying the message was
        // displayed, dispatched or processed. "deleted" is how Dovecot's LDA rejects a message
        // (over quota, a Sieve reject): a failure notice, read as text below.
        bool mdn = false;
        for (const mime::Leaf& leaf : walk.leaves) {
            if (sawDsn || arf || leaf.message != 0 || leaf.contentType != "message/disposition-notification") continue;
            Fields f;
            for (const Fields& b : parseFieldBlocks(leaf.body)) f.list.insert(f.list.end(), b.list.begin(), b.list.end());
            const std::string disposition = toLower(f.get("disposition"));
            const std::size_t semi = disposition.find(';');
            const std::string_view type = trim(std::string_view(disposition).substr(semi == std::string::npos ? 0 : semi + 1));
            mdn = type.rfind("displayed", 0) == 0 || type.rfind("dispatched", 0) == 0 || type.rfind("processed", 0) == 0;
            break;
        }
        if (mdn) {
            out.isReceipt = true;
            out.format = "mdn";
        }

        // 3. Plain-text notices.
        if (!mdn && ((!sawDsn && !arf) || (sawDsn && results.empty()))) {
            std::string_view format;
            static const PhraseSet signatures([] {
                std::vector<std::string_view> phrases;
                for (const Signature& s : kSignatures) phrases.push_back(s.phrase);
                return phrases;
            }());
            if (const std::size_t k = signatures.firstListed(notice.lower); k != PhraseSet::npos) {
                format = kSignatures[k].format;
            }
            if (format.empty() && subjectLower.find("delivery status notification") != std::string::npos) {
                format = "gmail";
            }
            const std::string from = mime::decodeHeaderText(top.get("From"));
            const bool failedHeader = top.has("X-Failed-Recipients");
            std::vector<std::string> excluded;
            for (const std::string& a : {addressIn(from), addressIn(top.get("To")),
                                         addressIn(top.get("Return-Path"))}) {
                if (!a.empty()) excluded.push_back(a);
            }
            const bool mailerDaemon = looksLikeMailerDaemon(from);
            const bool bounceSubject = subjectSaysBounce(subjectLower);
            if (format.empty() && (failedHeader || (mailerDaemon && bounceSubject))) {
                format = "unknown";
            }
            // A notice of no known shape still proves itself when it names a failed recipient,
            // on a line of its own ("<a@b>:") or after a lead ("Your message to a@b ..."), and
            // comes from a mailer daemon or a null sender (From: <>), has a bounce subject, or
            // is a delivery report (Sisimai's fallback for unknown servers).
            std::vector<TextBlock> blocks, leads;
            bool blocksRead = false;
            const bool nullFrom = top.has("From") && addressIn(from).empty() &&
                                  (trim(from).empty() || trim(from) == "<>");
            if (format.empty() && (mailerDaemon || bounceSubject || nullFrom || sawDsn)) {
                blocks = addressBlocks(notice.region, excluded);
                blocksRead = true;
                if (blocks.empty()) leads = leadAddresses(notice.region, notice.lower, excluded);
                if (!blocks.empty() || !leads.empty()) format = "unknown";
            }
            if (!format.empty()) {
                if (!sawDsn) out.format = std::string(format);
                out.isBounce = true;
                if (!blocksRead) blocks = addressBlocks(notice.region, excluded);
                if (blocks.empty() && failedHeader) {
                    std::string failed = top.get("X-Failed-Recipients");
                    std::size_t p = 0;
                    while (auto found = findAddress(failed, p)) {
                        blocks.push_back(TextBlock{found->address, {}});
                        p = found->end;
                    }
                }
                if (blocks.empty()) blocks = leads.empty() ? leadAddresses(notice.region, notice.lower, excluded)
                                                           : std::move(leads);
                if (blocks.empty()) {
                    std::size_t p = 0;
                    while (auto found = findAddress(notice.region, p)) {
                        if (!isExcluded(found->address, excluded)) {
                            blocks.push_back(TextBlock{found->address, {}});
                        }
                        p = found->end;
                        if (blocks.size() >= 50) break;
                    }
                }
                const std::string regionCode = codeLine(notice.region);
                const bool delayed = saysDelayed(notice.lower, subjectLower);
                std::vector<BounceResult> textResults;
                for (TextBlock& b : blocks) {
                    std::string key = toLower(b.recipient);
                    auto same = std::find_if(textResults.begin(), textResults.end(),
                                             [&](const BounceResult& r) { return toLower(r.recipient) == key; });
                    std::string diag = collapse(b.text);
                    if (same != textResults.end()) {
                        // Exchange names each recipient twice: for people, then for administrators.
                        if (same->status.empty()) same->status = failureStatusIn(diag);
                        if (same->smtpCode == 0) same->smtpCode = findSmtpCode(diag);
                        if (!diag.empty()) same->diagnostic = collapse(same->diagnostic + " " + diag);
                        continue;
                    }
                    BounceResult r;
                    r.recipient = b.recipient;
                    r.diagnostic = diag;
                    r.remoteMta = findRemoteMta(b.text);
                    textResults.push_back(std::move(r));
                }
                for (BounceResult& r : textResults) {
                    if (r.status.empty()) r.status = failureStatusIn(r.diagnostic);
                    if (r.smtpCode == 0) r.smtpCode = findSmtpCode(r.diagnostic);
                    if (r.status.empty() && r.smtpCode == 0 && textResults.size() == 1) {
                        std::string code = collapse(regionCode);
                        r.status = failureStatusIn(code);
                        r.smtpCode = findSmtpCode(code);
                        if (!code.empty()) {
                            r.diagnostic = r.diagnostic.empty() ? code : collapse(r.diagnostic + " " + code);
                        }
                    }
                    if (r.remoteMta.empty() && textResults.size() == 1) r.remoteMta = findRemoteMta(notice.region);
                    r.action = delayed && !isTemporary(r) && r.status.empty() && r.smtpCode == 0
                                   ? Action::delayed
                                   : (delayed && isTemporary(r) ? Action::delayed : Action::failed);
                    if (r.action == Action::delayed) {
                        // A server's delay warning: its words tell why it keeps trying, the
                        // verdict is the expiry (as Sisimai's server modules decide).
                        finish(r, noticeCommand);
                        if (r.statusDerived || r.status.empty()) {
                            r.reason = Reason::expired;
                            r.status = pseudoStatus(r.reason, true);
                            r.statusDerived = true;
                        }
                        if (r.diagnostic.empty()) r.diagnostic = collapse(notice.region);
                        continue;
                    }
                    if (r.diagnostic.empty()) r.diagnostic = collapse(notice.region);
                    finish(r, noticeCommand);
                    // A notice of no known shape for one recipient, whose words beside the
                    // address say nothing known and give neither status nor reply: the reason
                    // is in its whole text (as Sisimai's fallback reads it).
                    if (format == "unknown" && textResults.size() == 1 && r.reason == Reason::onHold &&
                        r.statusDerived && r.smtpCode == 0) {
                        r.diagnostic = collapse(notice.region);
                        r.status.clear();
                        r.statusDerived = false;
                        finish(r, noticeCommand);
                    }
                    // Exim saying neither status nor reply: its expiries and full mailboxes are
                    // temporary failures (Sisimai's Exim module).
                    if (format == "exim" && r.statusDerived && r.smtpCode == 0 &&
                        (r.reason == Reason::expired || r.reason == Reason::mailboxFull)) {
                        r.status = pseudoStatus(r.reason, true);
                    }
                }
                if (textResults.empty()) errors.push_back("a delivery notice naming no recipient");
                results = std::move(textResults);
            }
        }

        // A DSN that reports only deliveries (Action: delivered, relayed, expanded) is a receipt.
        if (sawDsn && !results.empty() &&
            std::all_of(results.begin(), results.end(), [](const BounceResult& r) {
                return r.action == Action::delivered || r.action == Action::relayed || r.action == Action::expanded;
            })) {
            out.isReceipt = true;
        }

        // 4. Challenge-response requests, then auto-replies: only what is not a report or a
        // notice.
        if (!out.isBounce && !out.isComplaint && !out.isReceipt && isChallenge(top, subjectLower, notice.lower)) {
            out.isChallenge = true;
            out.format = "challenge";
            results.clear();
        }
        if (!out.isBounce && !out.isComplaint && !out.isReceipt && !out.isChallenge) {
            std::string autoSubmitted = toLower(top.get("Auto-Submitted"));
            bool autoReply = autoSubmitted.rfind("auto-replied", 0) == 0 || top.has("X-Autoreply") ||
                             top.has("X-Autorespond") ||
                             toLower(top.get("Precedence")) == "auto_reply" ||
                             toLower(top.get("X-Auto-Response-Suppress")).find("oof") != std::string::npos;
            for (std::string_view s : {"out of office", "out of the office", "automatic reply",
                                       "auto-reply", "autoreply", "auto reply", "vacation",
                                       "abwesenheitsnotiz", "absence"}) {
                if (subjectLower.find(s) != std::string::npos) autoReply = true;
            }
            if (autoReply) {
                out.isAutoReply = true;
                out.format = "autoreply";
                results.clear();
            }
        }
        if (out.format.empty()) out.format = "unknown";

        // Campaign matching data, the same for every result of this message.
        std::vector<std::string> envelope = returned.envelopeCandidates;
        envelope.insert(envelope.end(), extraEnvelope.begin(), extraEnvelope.end());
        for (const char* name : {"X-Original-To", "Delivered-To"}) {
            std::string a = addressIn(top.get(name));
            if (!a.empty()) envelope.push_back(a);
        }
        if (out.isBounce) {
            std::string to = addressIn(top.get("To"));  // a notice goes to the envelope sender
            if (!to.empty()) envelope.push_back(to);
        }
        std::string verp = envelope.empty() ? std::string() : envelope.front();
        std::optional<std::int64_t> campaign = returned.campaignHeader;
        for (const std::string& s : returned.subjects) {
            if (!campaign) campaign = findCidTag(s);
        }
        if (!campaign) campaign = findCidTag(noticeSubject);
        if (!campaign) campaign = findCidTag(notice.text);
        for (BounceResult& r : results) {
            r.verpAddress = verp;
            r.originalMessageId = returned.messageId;
            r.campaignId = campaign;
        }
        // A result that names no recipient cannot be acted on (found by the fuzz target: an
        // ARF report whose returned message has no usable To).
        const auto before = results.size();
        std::erase_if(results, [](const BounceResult& r) { return r.recipient.empty(); });
        if (results.size() != before) errors.push_back("a report without a recipient address was ignored");
        out.results = std::move(results);
        for (const std::string& e : errors) {
            if (!out.error.empty()) out.error += "; ";
            out.error += e;
        }
    } catch (const std::exception& e) {
        out.error = std::string("internal: ") + e.what();
    } catch (...) {
        out.error = "internal: unknown failure";
    }
    return out;
}

}  // namespace campaignd::bounce
