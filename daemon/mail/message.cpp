// message.cpp: CampaignTemplate. Compiling does everything that does not depend on the
// recipient: validating and parsing the three templates (kainjow mustache), deriving the text
// part, encoding the From header, building the constant headers, and producing the MIME
// framing (part headers, boundary lines) once with Poco::Net::MultipartWriter. Rendering then
// only concatenates: Date, To, Subject, Message-ID, List-Unsubscribe, and the two bodies
// rendered and quoted-printable encoded. Poco's MailMessage is not used per recipient: it
// re-encodes every constant header and streams each body octet through an unbuffered
// streambuf, and its encodeWord splits UTF-8 characters (see encoding.cpp).
//
// Header decisions: "Precedence: bulk" is sent, so that vacation responders (Sieve, Exchange)
// do not answer the VERP address with auto-replies; "Auto-Submitted" is not, because RFC 3834
// reserves it for mail a program generates on its own, and some servers and clients suppress
// or file such mail differently.
#include "mail/message.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartWriter.h>
#include <Poco/Timestamp.h>
#include <kainjow/mustache.hpp>

#include <atomic>
#include <ctime>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/text.h"
#include "mail/encoding.h"
#include "mail/html_to_text.h"
#include "mail/personalisation.h"
#include "rules/html_sanitizer.h"
#include "rules/validation.h"

namespace campaignd::mail {
namespace {

using Mustache = kainjow::mustache::mustache;
using Data = kainjow::mustache::data;

constexpr std::size_t kMaxUrl = 900;  // a List-Unsubscribe URL stays well inside 998 octets

// The values of one recipient, as the templates see them. Sections push their value; every
// lookup is still by name, since the known variables are plain strings. An empty value is
// `false`, so that {{^name}}Hello{{/name}} works for a recipient without a name.
class RecipientContext final : public kainjow::mustache::basic_context<std::string> {
public:
    RecipientContext(const std::string& name, const std::string& email, const std::string& unsubscribeUrl,
                     const std::string& viewUrl = {})
        : name_(value(name)), email_(value(email)), unsubscribeUrl_(value(unsubscribeUrl)), viewUrl_(value(viewUrl)) {}

    void push(const Data*) override {}
    void pop() override {}
    const Data* get(const std::string& name) const override {
        if (name == "name") return &name_;
        if (name == "email") return &email_;
        if (name == "unsubscribe_url") return &unsubscribeUrl_;
        if (name == "view_url") return &viewUrl_;
        return nullptr;
    }
    const Data* get_partial(const std::string&) const override { return nullptr; }

private:
    static Data value(const std::string& s) { return s.empty() ? Data(false) : Data(s); }
    Data name_, email_, unsubscribeUrl_, viewUrl_;
};

// What kainjow's render() writes to: appends to a string without an ostringstream.
struct StringSink {
    std::string* out;
    StringSink& operator<<(const std::string& s) {
        out->append(s);
        return *this;
    }
};

// How many URLs the sanitiser would refuse in the HTML rendered for a recipient named `name`.
std::size_t refusedUrls(Mustache& html, const std::string& name, const std::string& unsubscribeUrl,
                        const std::string& viewUrl) {
    std::string out;
    StringSink sink{&out};
    RecipientContext context(name, "someone@example.org", unsubscribeUrl, viewUrl);
    html.render(context, sink);
    std::size_t refused = 0;
    for (const auto& r : rules::sanitizeHtmlReporting(out).removed)
        if (r.what.find("URL in ") != std::string::npos) refused += r.count;
    return refused;
}

// Values in the HTML part, safe in text and in attributes quoted either way (kainjow's escape
// function takes a std::string).
std::string escapeHtml(const std::string& value) { return text::escapeHtml(value); }

std::string withField(std::string_view field, const std::string& problem) {
    return std::string(field) + ": " + problem;
}

void checkTemplate(std::string_view field, std::string_view text) {
    rules::checkUtf8(field, text);
    const std::string problem = validateTemplate(text);
    if (!problem.empty()) throw Error(ErrorCode::InvalidArgument, withField(field, problem));
}

bool usesVariable(std::string_view text, std::string_view variable) {
    for (std::size_t pos = text.find("{{"); pos != std::string_view::npos; pos = text.find("{{", pos + 2)) {
        std::size_t i = pos + 2;
        while (i < text.size() && (text[i] == ' ' || text[i] == '#' || text[i] == '^')) ++i;
        if (text.substr(i, variable.size()) == variable) return true;
    }
    return false;
}

std::string domainOf(std::string_view address) { return std::string(address.substr(address.rfind('@') + 1)); }

// Splits normalizeFromAddress's output into the display name (unquoted) and the address.
std::pair<std::string, std::string> splitFrom(const std::string& from) {
    if (from.empty() || from.back() != '>') return {{}, from};
    const std::size_t open = from.rfind('<');
    std::string_view display = std::string_view(from).substr(0, open);
    while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
    std::string name;
    if (!display.empty() && display.front() == '"') {
        display = display.substr(1, display.size() - 2);
        for (std::size_t i = 0; i < display.size(); ++i) {
            if (display[i] == '\\' && i + 1 < display.size()) ++i;
            name += display[i];
        }
    } else {
        name = display;
    }
    return {name, from.substr(open + 1, from.size() - open - 2)};
}

bool isUrlCharacter(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    // RFC 3986 unreserved and reserved characters and '%', less ',' (RFC 2369 separates the
    // URLs of List-Unsubscribe with commas) and the brackets around each URL.
    return std::string_view("-._~:/?#[]@!$&'()*+;=%{}").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string replaceAll(std::string s, std::string_view what, std::string_view with) {
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

// "Thu, 07 Mar 2024 09:05:00 +0000" for the second `now` falls in, cached per thread.
const std::string& dateHeaderValue(std::chrono::system_clock::time_point now) {
    thread_local std::time_t cachedSecond = -1;
    thread_local std::string cached;
    const std::time_t second = std::chrono::system_clock::to_time_t(now);
    if (second != cachedSecond) {
        cached = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(second),
                                                 "%w, %d %b %Y %H:%M:%S +0000");
        cachedSecond = second;
    }
    return cached;
}

// splitmix64's finaliser: a bijection, so distinct inputs give distinct outputs.
std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::string base32(std::uint64_t v) {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string out(13, 'a');
    for (int i = 12; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kAlphabet[v & 31];
        v >>= 5;
    }
    return out;
}

std::uint64_t randomSeed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

struct CampaignTemplate::Impl {
    Id campaignId = 0;
    MessageSettings settings;
    std::string messageIdDomain;
    std::string fromHeader;        // "From: ...\r\n"
    std::string constantSubject;   // "Subject: ...\r\n" when the subject has no tags
    std::string constantSubjectText;  // the subject as given, when it has no tags
    std::string subjectSuffix;     // " [CID:N]" or empty
    std::string constantHeaders;   // MIME-Version ... up to, not including, List-Unsubscribe
    std::string oneClickHeader;    // List-Unsubscribe-Post, for an https URL
    std::string unsubscribeUrl;    // template with {campaign_id} replaced; {token} left
    std::string viewUrl;           // the same for {{view_url}}
    std::string unsubscribeMailto;
    std::string textTemplate;
    bool hasHtml = false;
    // kainjow's render() is not const, but with no partials and no lambdas (validateTemplate
    // refuses the former, RecipientContext has none of the latter) it writes nothing in the
    // template, so concurrent renders are safe.
    mutable std::unique_ptr<Mustache> subject, text, html;
    std::string textHead, htmlHead, closing;  // MIME framing around the encoded bodies
    std::uint64_t salt = 0;
    mutable std::atomic<std::uint64_t> counter{0};
    std::size_t sizeHint = 0;
};

CampaignTemplate::CampaignTemplate(const Campaign& campaign, const MessageSettings& settings)
    : impl_(std::make_unique<Impl>()) {
    Impl& t = *impl_;
    if (campaign.id <= 0) throw Error(ErrorCode::InvalidArgument, "campaign id must be positive");
    t.campaignId = campaign.id;
    t.settings = settings;
    if (settings.verp.domain.empty()) throw Error(ErrorCode::InvalidArgument, "the VERP envelope domain is not set");
    t.settings.verp = checkVerpSettings(settings.verp);

    // From, and the Message-ID domain (by default the From's).
    const std::string& fromInput = campaign.fromAddress.empty() ? settings.defaultFrom : campaign.fromAddress;
    if (fromInput.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "the campaign has no from address and no default sender is configured");
    const auto [fromName, fromAddress] = splitFrom(rules::normalizeFromAddress(fromInput));
    {
        HeaderWriter from(t.fromHeader, "From");
        from.phrase(cleanHeaderText(fromName));
        from.token(fromName.empty() ? fromAddress : "<" + fromAddress + ">");
        from.finish();
    }
    t.messageIdDomain = settings.messageIdDomain.empty() ? domainOf(fromAddress) : settings.messageIdDomain;
    try {
        t.messageIdDomain = domainOf(rules::normalizeEmail("message-id@" + t.messageIdDomain));
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, std::string("Message-ID domain: ") + e.what());
    }

    // Unsubscribe and "view in browser": the URL templates, and the mailto address.
    const auto urlTemplate = [&](const std::string& url, const char* what) {
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
            throw Error(ErrorCode::InvalidArgument, std::string(what) + ": must start with https:// or http://");
        for (unsigned char c : url)
            if (!isUrlCharacter(c))
                throw Error(ErrorCode::InvalidArgument,
                            std::string(what) + ": contains \"" +
                                rules::quoteForMessage(std::string(1, static_cast<char>(c))) + "\"; %-encode it");
        if (url.find("{token}") == std::string::npos)
            throw Error(ErrorCode::InvalidArgument,
                        std::string(what) + ": must contain {token}, which names the recipient");
        std::string out = replaceAll(url, "{campaign_id}", std::to_string(campaign.id));
        if (out.size() > kMaxUrl)
            throw Error(ErrorCode::InvalidArgument,
                        std::string(what) + ": longer than " + std::to_string(kMaxUrl) + " octets");
        return out;
    };
    if (!settings.unsubscribeUrl.empty()) t.unsubscribeUrl = urlTemplate(settings.unsubscribeUrl, "unsubscribe URL");
    if (!settings.viewUrl.empty()) t.viewUrl = urlTemplate(settings.viewUrl, "view URL");
    if (!settings.unsubscribeMailto.empty()) {
        try {
            t.unsubscribeMailto = rules::normalizeEmail(settings.unsubscribeMailto);
        } catch (const Error& e) {
            throw Error(ErrorCode::InvalidArgument, std::string("unsubscribe mailto ") + e.what());
        }
    }

    // The templates.
    rules::checkHeaderValue("subject", campaign.subject);
    checkTemplate("subject", campaign.subject);
    // Stored HTML is sanitised, and the sanitiser keeps template tags in links intact.
    const std::string& html = campaign.htmlContent;
    rules::checkUtf8("HTML content", html);
    if (const std::string problem = validateHtmlTemplate(html); !problem.empty())
        throw Error(ErrorCode::InvalidArgument, withField("HTML content", problem));
    checkTemplate("text content", campaign.textContent);
    t.hasHtml = !html.empty();
    if (!campaign.textContent.empty()) {
        t.textTemplate = campaign.textContent;
    } else {
        t.textTemplate = htmlToText(html);
        const std::string problem = validateTemplate(t.textTemplate);
        if (!problem.empty())
            throw Error(ErrorCode::InvalidArgument,
                        withField("the text derived from the HTML content", problem) +
                            " (give the campaign its own text content)");
    }
    if (!t.hasHtml && t.textTemplate.empty())
        throw Error(ErrorCode::InvalidArgument, "the campaign has neither HTML nor text content");
    if (t.unsubscribeUrl.empty() && t.unsubscribeMailto.empty()) {
        for (const std::string* text : {&campaign.subject, &html, static_cast<const std::string*>(&t.textTemplate)})
            if (usesVariable(*text, "unsubscribe_url"))
                throw Error(ErrorCode::InvalidArgument,
                            "the campaign uses {{unsubscribe_url}}, but no unsubscribe URL or "
                            "address is configured");
    }
    if (t.viewUrl.empty()) {
        for (const std::string* text : {&campaign.subject, &html, static_cast<const std::string*>(&t.textTemplate)})
            if (usesVariable(*text, "view_url"))
                throw Error(ErrorCode::InvalidArgument,
                            "the campaign uses {{view_url}}, but no view URL is configured "
                            "([Web] PublicURL=)");
    }
    const auto verbatim = [](const std::string& s) { return s; };
    if (campaign.subject.find("{{") != std::string::npos) {
        t.subject = std::make_unique<Mustache>(campaign.subject);
        t.subject->set_custom_escape(verbatim);
    }
    t.text = std::make_unique<Mustache>(t.textTemplate);
    t.text->set_custom_escape(verbatim);
    if (t.hasHtml) {
        t.html = std::make_unique<Mustache>(html);
        t.html->set_custom_escape(escapeHtml);
        // The values are checked where they land, as URLs: rendered for a recipient whose name
        // is a javascript: link, every URL must still be one the sanitiser keeps, as it does
        // for a plain name. validateHtmlTemplate refuses the templates known to let a value
        // choose a scheme; this holds for any other way the renderer might find.
        const std::string sampleUnsubscribe =
            !t.unsubscribeUrl.empty() ? replaceAll(t.unsubscribeUrl, "{token}", "token")
            : !t.unsubscribeMailto.empty() ? "mailto:" + t.unsubscribeMailto : std::string();
        const std::string sampleView = replaceAll(t.viewUrl, "{token}", "token");
        if (refusedUrls(*t.html, "javascript:alert(document.domain)//", sampleUnsubscribe, sampleView) >
            refusedUrls(*t.html, "Ada", sampleUnsubscribe, sampleView))
            throw Error(ErrorCode::InvalidArgument,
                        withField("HTML content", "a recipient's name would choose where one of its links goes "
                                                  "(a name \"javascript:...\" makes a live script link); write "
                                                  "each URL's start up to its ':' or first '/' yourself"));
    }
    if (settings.subjectTag) t.subjectSuffix = " [CID:" + std::to_string(campaign.id) + "]";
    if (!t.subject) {
        t.constantSubjectText = campaign.subject;
        HeaderWriter subject(t.constantSubject, "Subject");
        subject.unstructured(cleanHeaderText(campaign.subject + t.subjectSuffix));
        subject.finish();
    }

    // The constant headers and the MIME framing. The boundary holds "=_", which a
    // quoted-printable body can never contain ('=' there is always followed by a hex digit or
    // a line end), so no body can end a part early.
    const std::uint64_t seed = randomSeed();
    t.salt = mix(seed);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(mix(seed + 1)));
    const std::string boundary = "=_campaignd_" + std::to_string(campaign.id) + "_" + hex;

    Poco::Net::MessageHeader textHeader;
    textHeader.set("Content-Type", "text/plain; charset=UTF-8");
    textHeader.set("Content-Transfer-Encoding", "quoted-printable");
    Poco::Net::MessageHeader htmlHeader;
    htmlHeader.set("Content-Type", "text/html; charset=UTF-8");
    htmlHeader.set("Content-Transfer-Encoding", "quoted-printable");

    t.constantHeaders = "MIME-Version: 1.0\r\n";
    if (t.hasHtml) {
        t.constantHeaders += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
        std::ostringstream framing;
        Poco::Net::MultipartWriter writer(framing, boundary);
        writer.nextPart(textHeader);
        t.textHead = framing.str();
        framing.str({});
        writer.nextPart(htmlHeader);
        t.htmlHead = framing.str();
        framing.str({});
        writer.close();
        t.closing = framing.str();
    } else {
        std::ostringstream header;
        textHeader.write(header);
        t.constantHeaders += header.str();
        t.closing = "\r\n";
    }
    // Feedback-ID: a:b:c:SenderId, the identifiers optional; the campaign is the one that
    // matters for complaint rates.
    const std::string sender = settings.feedbackSenderId.empty() ? domainOf(fromAddress) : settings.feedbackSenderId;
    if (sender.empty() || sender.size() > 64 ||
        sender.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
        throw Error(ErrorCode::InvalidArgument, "the Feedback-ID sender identifier must be 1 to 64 letters, digits, "
                                                "'.', '_' or '-'");
    t.constantHeaders += "Feedback-ID: " + std::to_string(campaign.id) + ":" + sender + "\r\n";
    t.constantHeaders += "X-Campaign-Id: " + std::to_string(campaign.id) + "\r\n";
    // List-Id: "Name" <label.from-domain>. The label is letters, digits and '-' only, and the
    // name goes through the phrase writer (a quoted-string, or encoded-words when not ASCII), so
    // a group name with CR, LF or quotes cannot add a header or break this one.
    if (settings.list) {
        const std::string label = settings.list->label.empty() ? std::string("list") : settings.list->label;
        checkHeaderToken("List-Id", label);
        HeaderWriter listId(t.constantHeaders, "List-Id");
        if (const std::string name = cleanHeaderText(settings.list->name); !name.empty()) listId.phrase(name);
        listId.token("<" + label + "." + domainOf(fromAddress) + ">");
        listId.finish();
    }
    t.constantHeaders += "Precedence: bulk\r\n";
    if (t.unsubscribeUrl.rfind("https://", 0) == 0)
        t.oneClickHeader = "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    t.sizeHint = 1024 + campaign.subject.size() * 3 + (t.textTemplate.size() + html.size()) * 3 / 2;
}

std::string listLabel(std::string_view groupName, Id groupId) {
    std::string label;
    bool dash = false;
    for (const char c : groupName) {
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) {
            if (dash && !label.empty()) label += '-';
            dash = false;
            label += lower;
            if (label.size() >= 63) break;
        } else {
            dash = true;
        }
    }
    if (label.empty()) return "group-" + std::to_string(groupId);
    return label;
}

CampaignTemplate::~CampaignTemplate() = default;
CampaignTemplate::CampaignTemplate(CampaignTemplate&&) noexcept = default;
CampaignTemplate& CampaignTemplate::operator=(CampaignTemplate&&) noexcept = default;

Id CampaignTemplate::campaignId() const { return impl_->campaignId; }

BrowserView CampaignTemplate::renderForBrowser(const Recipient& recipient) const {
    const Impl& t = *impl_;
    if (recipient.id <= 0) throw Error(ErrorCode::InvalidArgument, "recipient id must be positive");
    std::string email;
    try {
        email = rules::normalizeEmail(recipient.email);
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, std::string("recipient ") + e.what());
    }
    const std::string name = cleanHeaderText(recipient.name);
    const std::string token = recipientToken(t.settings.verp.secret, t.campaignId, recipient.id);
    const std::string unsubscribeUrl =
        !t.unsubscribeUrl.empty() ? replaceAll(t.unsubscribeUrl, "{token}", token)
        : !t.unsubscribeMailto.empty()
            ? "mailto:" + t.unsubscribeMailto + "?subject=unsubscribe%20" + std::to_string(t.campaignId) + "-" + token
            : std::string();
    RecipientContext context(name, email, unsubscribeUrl, replaceAll(t.viewUrl, "{token}", token));
    BrowserView view;
    StringSink subjectSink{&view.subject};
    if (t.subject)
        t.subject->render(context, subjectSink);
    else
        view.subject = t.constantSubjectText;
    view.subject = cleanHeaderText(view.subject + t.subjectSuffix);
    StringSink sink{&view.html};
    if (t.html) {
        t.html->render(context, sink);
    } else {
        std::string text;
        StringSink textSink{&text};
        t.text->render(context, textSink);
        view.html = "<pre>" + escapeHtml(text) + "</pre>";
    }
    return view;
}
const std::string& CampaignTemplate::textTemplate() const { return impl_->textTemplate; }

ComposedMessage CampaignTemplate::render(const Recipient& recipient) const {
    return render(recipient, std::chrono::system_clock::now());
}

ComposedMessage CampaignTemplate::render(const Recipient& recipient,
                                         std::chrono::system_clock::time_point now) const {
    const Impl& t = *impl_;
    if (recipient.id <= 0) throw Error(ErrorCode::InvalidArgument, "recipient id must be positive");
    ComposedMessage message;
    try {
        message.recipient = rules::normalizeEmail(recipient.email);
    } catch (const Error& e) {
        throw Error(ErrorCode::InvalidArgument, std::string("recipient ") + e.what());
    }
    const std::string name = cleanHeaderText(recipient.name);
    const std::string token = recipientToken(t.settings.verp.secret, t.campaignId, recipient.id);
    const std::string campaign = std::to_string(t.campaignId);
    const std::string unsubscribeUrl =
        !t.unsubscribeUrl.empty() ? replaceAll(t.unsubscribeUrl, "{token}", token)
        : !t.unsubscribeMailto.empty()
            ? "mailto:" + t.unsubscribeMailto + "?subject=unsubscribe%20" + campaign + "-" + token
            : std::string();
    RecipientContext context(name, message.recipient, unsubscribeUrl, replaceAll(t.viewUrl, "{token}", token));

    const VerpSettings& verp = t.settings.verp;
    message.envelopeFrom = verp.prefix + verp.delimiter + campaign + "-" + token + "@" + verp.domain;
    const std::uint64_t sequence = t.counter.fetch_add(1, std::memory_order_relaxed);
    message.messageId = "<" + campaign + "." + std::to_string(recipient.id) + "." +
                        base32(mix(t.salt + sequence * 0x9E3779B97F4A7C15ull)) + "@" + t.messageIdDomain + ">";

    std::string& d = message.data;
    d.reserve(t.sizeHint + name.size() * 8);
    d += "Date: ";
    d += dateHeaderValue(now);
    d += "\r\n";
    d += t.fromHeader;
    {
        HeaderWriter to(d, "To");
        to.phrase(name);
        to.token(name.empty() ? message.recipient : "<" + message.recipient + ">");
        to.finish();
    }
    if (t.subject) {
        std::string subject;
        StringSink sink{&subject};
        t.subject->render(context, sink);
        HeaderWriter header(d, "Subject");
        header.unstructured(cleanHeaderText(subject + t.subjectSuffix));
        header.finish();
    } else {
        d += t.constantSubject;
    }
    {
        HeaderWriter id(d, "Message-ID");
        id.token(message.messageId);
        id.finish();
    }
    d += t.constantHeaders;
    if (!t.unsubscribeUrl.empty() || !t.unsubscribeMailto.empty()) {
        HeaderWriter list(d, "List-Unsubscribe");
        if (!t.unsubscribeMailto.empty()) {
            const std::string mailto = "<mailto:" + t.unsubscribeMailto + "?subject=unsubscribe%20" +
                                       campaign + "-" + token + ">";
            list.token(t.unsubscribeUrl.empty() ? mailto : mailto + ",");
        }
        if (!t.unsubscribeUrl.empty()) list.token("<" + unsubscribeUrl + ">");
        list.finish();
        d += t.oneClickHeader;
    }
    d += "\r\n";

    thread_local std::string body;
    StringSink sink{&body};
    d += t.textHead;
    body.clear();
    t.text->render(context, sink);
    appendQuotedPrintable(d, body);
    if (t.html) {
        d += t.htmlHead;
        body.clear();
        t.html->render(context, sink);
        appendQuotedPrintable(d, body);
    }
    d += t.closing;
    if (t.settings.dkim) d.insert(0, t.settings.dkim->signatureFields(d));
    return message;
}

std::string fromDomain(const std::string& from) {
    try {
        return domainOf(splitFrom(rules::normalizeFromAddress(from)).second);
    } catch (const Error&) {
        return {};
    }
}

}  // namespace campaignd::mail
