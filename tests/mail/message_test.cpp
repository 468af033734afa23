// message_test.cpp: whole messages, read back with Poco::Net::MailMessage as a mail client
// would, asserting what its user sees: the subject with [CID:N], the names in To, both parts,
// the personalisation in each, the VERP sender, unique Message-IDs, List-Unsubscribe, and that
// no recipient data can add a header or markup.
#include "mail/message.h"

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/PartSource.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "client_view.h"
#include "core/error.h"
#include "mail/verp.h"
#include "rules/html_sanitizer.h"

namespace campaignd::mail {
namespace {

MessageSettings settings() {
    MessageSettings s;
    s.defaultFrom = "Example News <news@example.org>";
    s.verp.domain = "bounces.example.org";
    s.verp.secret = "test-secret-0123456789";
    return s;
}

Campaign campaign(Id id = 42) {
    Campaign c;
    c.id = id;
    c.subject = "Spring news for {{name}}";
    c.htmlContent =
        "<h1>Hello {{name}}</h1><p>Your address: {{email}}.</p>"
        "<ul><li>Apples</li><li>Pears</li></ul>"
        "<p>Read <a href=\"https://example.org/news\">our news</a>.</p>";
    return c;
}

Recipient recipient(Id id, std::string email, std::string name) {
    Recipient r;
    r.id = id;
    r.email = std::move(email);
    r.name = std::move(name);
    return r;
}

std::string rawHeader(const std::string& data, std::string_view name);

struct Parsed {
    // Header values as a client shows them (see client_view.h).
    std::string subject() const { return test::clientView(rawHeader(data, "Subject")); }
    std::string to() const { return test::clientView(rawHeader(data, "To")); }
    std::string from() const { return test::clientView(rawHeader(data, "From")); }

    std::string data;
    Poco::Net::MailMessage mail;
    std::string text;
    std::string html;
    std::string contentType;
};

std::string partContent(const Poco::Net::MailMessage::Part& part) {
    std::ostringstream out;
    out << part.pSource->stream().rdbuf();
    return out.str();
}

// Reads the message as a client does; the bodies are decoded from quoted-printable.
std::unique_ptr<Parsed> parse(const std::string& data) {
    auto parsed = std::make_unique<Parsed>();
    parsed->data = data;
    std::istringstream in(data);
    parsed->mail.read(in);
    parsed->contentType = parsed->mail.getContentType();
    for (const auto& part : parsed->mail.parts()) {
        if (part.pSource->mediaType().rfind("text/plain", 0) == 0) parsed->text = partContent(part);
        if (part.pSource->mediaType().rfind("text/html", 0) == 0) parsed->html = partContent(part);
    }
    if (parsed->mail.parts().empty()) parsed->text = parsed->mail.getContent();
    return parsed;
}

// The header block as raw lines, unfolded.
std::vector<std::string> headerLines(const std::string& data) {
    std::vector<std::string> out;
    const std::string head = data.substr(0, data.find("\r\n\r\n") + 2);
    std::size_t start = 0;
    while (start < head.size()) {
        const std::size_t end = head.find("\r\n", start);
        const std::string line = head.substr(start, end - start);
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) out.back() += line;
        else out.push_back(line);
        start = end + 2;
    }
    return out;
}

std::string rawHeader(const std::string& data, std::string_view name) {
    for (const std::string& line : headerLines(data))
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':')
            return line.substr(name.size() + 2);
    return {};
}

TEST(Message, ClientSeesSubjectWithCampaignTagAndPersonalisedParts) {
    const CampaignTemplate tmpl(campaign(), settings());
    const ComposedMessage m = tmpl.render(recipient(7, "ana@Example.ORG", "Ana"));
    const auto p = parse(m.data);
    EXPECT_EQ(p->subject(), "Spring news for Ana [CID:42]");
    EXPECT_EQ(p->to(), "Ana <ana@example.org>");
    EXPECT_EQ(p->from(), "Example News <news@example.org>");
    EXPECT_EQ(p->mail.get("MIME-Version"), "1.0");
    EXPECT_EQ(p->mail.get("X-Campaign-Id"), "42");
    EXPECT_EQ(p->mail.get("Precedence"), "bulk");
    EXPECT_EQ(p->mail.get("Message-ID"), m.messageId);
    EXPECT_FALSE(p->mail.has("Auto-Submitted"));
    EXPECT_EQ(p->contentType.rfind("multipart/alternative", 0), 0u);
    ASSERT_EQ(p->mail.parts().size(), 2u);
    EXPECT_EQ(p->mail.parts()[0].pSource->mediaType(), "text/plain; charset=UTF-8");
    EXPECT_EQ(p->mail.parts()[1].pSource->mediaType(), "text/html; charset=UTF-8");
    EXPECT_EQ(p->text,
              "Hello Ana\r\n\r\nYour address: ana@example.org.\r\n\r\n- Apples\r\n- Pears\r\n\r\n"
              "Read our news <https://example.org/news>.\r\n");
    EXPECT_NE(p->html.find("<h1>Hello Ana</h1>"), std::string::npos) << p->html;
    EXPECT_NE(p->html.find("Your address: ana@example.org."), std::string::npos);
    EXPECT_EQ(m.recipient, "ana@example.org");
}

// Feedback-ID (complaint rates per campaign at the largest mailbox provider): the campaign and
// the sender identifier, by default the From domain.
TEST(Message, FeedbackIdNamesTheCampaignAndTheSender) {
    const CampaignTemplate tmpl(campaign(), settings());
    EXPECT_EQ(rawHeader(tmpl.render(recipient(7, "ana@example.org", "Ana")).data, "Feedback-ID"), "42:example.org");
    MessageSettings s = settings();
    s.feedbackSenderId = "acme-news";
    const CampaignTemplate own(campaign(), s);
    EXPECT_EQ(rawHeader(own.render(recipient(7, "ana@example.org", "Ana")).data, "Feedback-ID"), "42:acme-news");
    s.feedbackSenderId = "a:b";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
}

// List-Id (RFC 2919): the group's name as the phrase and label.from-domain as the list-id.
TEST(Message, ListIdNamesTheGroupInTheFromDomain) {
    EXPECT_EQ(rawHeader(CampaignTemplate(campaign(), settings()).render(recipient(7, "ana@example.org", "Ana")).data,
                        "List-Id"),
              "");  // no group: no List-Id
    MessageSettings s = settings();
    s.list = MessageSettings::ListIdentity{"Members", listLabel("Members", 3)};
    const ComposedMessage m = CampaignTemplate(campaign(), s).render(recipient(7, "ana@example.org", "Ana"));
    EXPECT_EQ(rawHeader(m.data, "List-Id"), "Members <members.example.org>");
}

// A name with quotes, CR/LF or non-ASCII letters cannot add a header or break this one: quoted,
// control characters made spaces, RFC 2047 for what is not ASCII.
TEST(Message, ListIdNamesAreEncodedSafely) {
    MessageSettings s = settings();
    s.list = MessageSettings::ListIdentity{"Say \"hi\"\r\nBcc: victim@example.net", listLabel("Say \"hi\"", 4)};
    ComposedMessage m = CampaignTemplate(campaign(), s).render(recipient(7, "ana@example.org", "Ana"));
    const std::string quoted = rawHeader(m.data, "List-Id");
    EXPECT_EQ(quoted, "\"Say \\\"hi\\\" Bcc: victim@example.net\" <say-hi.example.org>");
    EXPECT_EQ(rawHeader(m.data, "Bcc"), "");
    s.list = MessageSettings::ListIdentity{"Mitglieder Ä", listLabel("Mitglieder Ä", 5)};
    m = CampaignTemplate(campaign(), s).render(recipient(7, "ana@example.org", "Ana"));
    const std::string encoded = rawHeader(m.data, "List-Id");
    EXPECT_EQ(encoded.rfind("=?UTF-8?", 0), 0u) << encoded;
    EXPECT_EQ(test::clientView(encoded), "Mitglieder Ä <mitglieder.example.org>");
    EXPECT_EQ(listLabel("Ärzte", 9), "rzte");
    EXPECT_EQ(listLabel("Ä Ö", 9), "group-9");
    EXPECT_EQ(listLabel("--News  2026!--", 1), "news-2026");
}

TEST(Message, DateIsRfc5322AndFromTheGivenTime) {
    const CampaignTemplate tmpl(campaign(), settings());
    const auto when = std::chrono::system_clock::from_time_t(1709802300);  // 2024-03-07 09:05:00 UTC
    const ComposedMessage m = tmpl.render(recipient(7, "ana@example.org", "Ana"), when);
    EXPECT_EQ(rawHeader(m.data, "Date"), "Thu, 07 Mar 2024 09:05:00 +0000");
}

TEST(Message, SubjectTagCanBeTurnedOff) {
    MessageSettings s = settings();
    s.subjectTag = false;
    const CampaignTemplate tmpl(campaign(), s);
    EXPECT_EQ(parse(tmpl.render(recipient(7, "ana@example.org", "Ana")).data)->subject(),
              "Spring news for Ana");
    Campaign constant = campaign();
    constant.subject = "Constant subject";
    const CampaignTemplate tagged(constant, settings());
    EXPECT_EQ(parse(tagged.render(recipient(7, "ana@example.org", "Ana")).data)->subject(),
              "Constant subject [CID:42]");
}

TEST(Message, AccentedAndCjkNamesAreEncodedAndDecodeIntact) {
    const CampaignTemplate tmpl(campaign(), settings());
    for (const std::string& name : {std::string("José Müller-Lüdenscheidt"), std::string("山田 太郎"),
                                   std::string("Zoë Ångström 😀")}) {
        const ComposedMessage m = tmpl.render(recipient(8, "x@example.org", name));
        const auto p = parse(m.data);
        EXPECT_EQ(p->to(), name + " <x@example.org>") << rawHeader(m.data, "To");
        EXPECT_EQ(p->subject(), "Spring news for " + name + " [CID:42]");
        EXPECT_NE(rawHeader(m.data, "To").find("=?UTF-8?"), std::string::npos);
        EXPECT_NE(p->text.find("Hello " + name), std::string::npos);
        EXPECT_NE(p->html.find("Hello " + name), std::string::npos);
    }
}

TEST(Message, QuoteAndCommaInANameStayInsideTheDisplayName) {
    const CampaignTemplate tmpl(campaign(), settings());
    const ComposedMessage m = tmpl.render(recipient(9, "jd@example.org", "Doe, John \"JD\""));
    EXPECT_EQ(rawHeader(m.data, "To"), "\"Doe, John \\\"JD\\\"\" <jd@example.org>");
    const ComposedMessage accented = tmpl.render(recipient(9, "jd@example.org", "Doé, Jöhn \"JD\""));
    const std::string to = rawHeader(accented.data, "To");
    EXPECT_EQ(to.find(','), std::string::npos) << "the comma is inside an encoded-word: " << to;
    EXPECT_EQ(parse(accented.data)->to(), "Doé, Jöhn \"JD\" <jd@example.org>");
}

TEST(Message, NameIsHtmlEscapedInTheHtmlPartOnly) {
    const CampaignTemplate tmpl(campaign(), settings());
    const std::string name = "<script>alert('x')</script> & \"co\"";
    const auto p = parse(tmpl.render(recipient(10, "eve@example.org", name)).data);
    EXPECT_EQ(p->html.find("<script>"), std::string::npos) << p->html;
    EXPECT_NE(p->html.find("Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"),
              std::string::npos)
        << p->html;
    EXPECT_NE(p->text.find("Hello " + name), std::string::npos) << p->text;
    EXPECT_EQ(p->subject(), "Spring news for " + name + " [CID:42]");
}

TEST(Message, LineBreaksInANameCannotAddAHeader) {
    Campaign c = campaign();
    const CampaignTemplate tmpl(c, settings());
    const std::string name = "Eve\r\nBcc: victim@example.org\r\n\r\n<p>body</p>";
    const ComposedMessage m = tmpl.render(recipient(11, "eve@example.org", name));
    const auto p = parse(m.data);
    EXPECT_FALSE(p->mail.has("Bcc"));
    for (const std::string& line : headerLines(m.data)) EXPECT_NE(line.rfind("Bcc", 0), 0u) << line;
    EXPECT_EQ(p->to(), "\"Eve Bcc: victim@example.org <p>body</p>\" <eve@example.org>");
    EXPECT_EQ(p->subject(), "Spring news for Eve Bcc: victim@example.org <p>body</p> [CID:42]");
    EXPECT_EQ(p->mail.parts().size(), 2u);
}

TEST(Message, SubjectTemplateWithALineBreakIsRefused) {
    Campaign c = campaign();
    c.subject = "News\r\nBcc: victim@example.org";
    EXPECT_THROW(CampaignTemplate(c, settings()), Error);
}

TEST(Message, InvalidRecipientAddressIsRefused) {
    const CampaignTemplate tmpl(campaign(), settings());
    EXPECT_THROW(tmpl.render(recipient(12, "victim@example.org>\r\nBcc: x@example.org", "X")), Error);
    EXPECT_THROW(tmpl.render(recipient(12, "not an address", "X")), Error);
    EXPECT_THROW(tmpl.render(recipient(0, "x@example.org", "X")), Error);
}

TEST(Message, EnvelopeSenderIsAVerpAddressThatMapsBack) {
    const MessageSettings s = settings();
    const CampaignTemplate tmpl(campaign(42), s);
    const ComposedMessage m = tmpl.render(recipient(1234, "ana@example.org", "Ana"));
    EXPECT_EQ(m.envelopeFrom.rfind("bounces+42-", 0), 0u) << m.envelopeFrom;
    const auto parsed = parseVerpAddress(m.envelopeFrom, checkVerpSettings(s.verp));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->campaignId, 42);
    EXPECT_EQ(parsed->recipientId, 1234);
    std::string tampered = m.envelopeFrom;
    tampered[tampered.find('@') - 1] = tampered[tampered.find('@') - 1] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(parseVerpAddress(tampered, checkVerpSettings(s.verp)).has_value());
}

TEST(Message, MessageIdsAreUniqueOver10000Renders) {
    const CampaignTemplate tmpl(campaign(), settings());
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) {
        const ComposedMessage m = tmpl.render(recipient(1 + i % 100, "r@example.org", "R"));
        EXPECT_EQ(m.messageId.rfind("<42." + std::to_string(1 + i % 100) + ".", 0), 0u) << m.messageId;
        EXPECT_EQ(m.messageId.substr(m.messageId.size() - 13), "@example.org>");
        ids.insert(m.messageId);
    }
    EXPECT_EQ(ids.size(), 10000u);
    // A second template for the same campaign (a daemon restart) does not repeat them.
    const CampaignTemplate again(campaign(), settings());
    for (int i = 0; i < 1000; ++i) ids.insert(again.render(recipient(1 + i % 100, "r@example.org", "R")).messageId);
    EXPECT_EQ(ids.size(), 11000u);
}

TEST(Message, ConcurrentRendersGiveIdenticalBodiesAndUniqueIds) {
    const CampaignTemplate tmpl(campaign(), settings());
    const std::string expected = parse(tmpl.render(recipient(5, "a@example.org", "Åsa")).data)->html;
    std::vector<std::vector<std::string>> ids(4);
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                const ComposedMessage m = tmpl.render(recipient(5, "a@example.org", "Åsa"));
                ids[t].push_back(m.messageId);
                if (i % 50 == 0 && parse(m.data)->html != expected) ++mismatches[t];
            }
        });
    }
    for (auto& thread : threads) thread.join();
    std::set<std::string> all;
    for (int t = 0; t < 4; ++t) {
        EXPECT_EQ(mismatches[t], 0);
        all.insert(ids[t].begin(), ids[t].end());
    }
    EXPECT_EQ(all.size(), 2000u);
}

TEST(Message, EveryLineIsAtMost998OctetsAndHeadersFoldAt76) {
    Campaign c = campaign();
    c.subject = "A very long subject line that goes on and on about {{name}} and the spring sale "
                "with many words in it, Grüße und Küsse, 春のセール、新製品のお知らせ";
    c.htmlContent = "<p>" + std::string(5000, 'x') + " {{name}}</p><p>" + std::string(3000, 'y') + "</p>";
    const CampaignTemplate tmpl(c, settings());
    const std::string longName(300, 'N');
    for (const std::string& name : {longName, std::string("山田太郎山田太郎山田太郎山田太郎山田太郎山田太郎山田太郎山田太郎")}) {
        const ComposedMessage m = tmpl.render(recipient(13, "long@example.org", name));
        std::size_t start = 0;
        while (start < m.data.size()) {
            const std::size_t end = m.data.find("\r\n", start);
            ASSERT_NE(end, std::string::npos) << "the message ends with CRLF";
            const std::size_t length = end - start;
            EXPECT_LE(length, 998u);
            EXPECT_LE(length, 76u) << m.data.substr(start, length);
            EXPECT_EQ(m.data.substr(start, end - start).find_first_of("\r\n"), std::string::npos);
            start = end + 2;
        }
        for (unsigned char ch : m.data) EXPECT_TRUE(ch < 0x80) << "the message is 7-bit";
        const auto p = parse(m.data);
        EXPECT_EQ(p->to(), name + " <long@example.org>");
        EXPECT_NE(p->html.find(std::string(5000, 'x') + " " + name), std::string::npos);
    }
}

TEST(Message, ListUnsubscribeOnlyWhenConfigured) {
    const CampaignTemplate none(campaign(), settings());
    const auto plain = parse(none.render(recipient(14, "a@example.org", "A")).data);
    EXPECT_FALSE(plain->mail.has("List-Unsubscribe"));
    EXPECT_FALSE(plain->mail.has("List-Unsubscribe-Post"));

    MessageSettings s = settings();
    s.unsubscribeUrl = "https://example.org/unsubscribe/{campaign_id}/{token}";
    s.unsubscribeMailto = "unsubscribe@example.org";
    const CampaignTemplate both(campaign(), s);
    const ComposedMessage m = both.render(recipient(14, "a@example.org", "A"));
    const std::string token = recipientToken(s.verp.secret, 42, 14);
    const auto p = parse(m.data);
    EXPECT_EQ(p->mail.get("List-Unsubscribe"),
              "<mailto:unsubscribe@example.org?subject=unsubscribe%2042-" + token +
                  ">, <https://example.org/unsubscribe/42/" + token + ">");
    EXPECT_EQ(p->mail.get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");

    s.unsubscribeUrl = "http://localhost:8080/u?t={token}";
    s.unsubscribeMailto.clear();
    const CampaignTemplate http(campaign(), s);
    const auto h = parse(http.render(recipient(14, "a@example.org", "A")).data);
    EXPECT_EQ(h->mail.get("List-Unsubscribe"), "<http://localhost:8080/u?t=" + token + ">");
    EXPECT_FALSE(h->mail.has("List-Unsubscribe-Post")) << "one-click needs https (RFC 8058)";

    s.unsubscribeUrl.clear();
    s.unsubscribeMailto = "unsubscribe@example.org";
    const CampaignTemplate mailto(campaign(), s);
    const auto ml = parse(mailto.render(recipient(14, "a@example.org", "A")).data);
    EXPECT_EQ(ml->mail.get("List-Unsubscribe"),
              "<mailto:unsubscribe@example.org?subject=unsubscribe%2042-" + token + ">");
    EXPECT_FALSE(ml->mail.has("List-Unsubscribe-Post"));
}

TEST(Message, UnsubscribeSettingsAreChecked) {
    MessageSettings s = settings();
    s.unsubscribeUrl = "https://example.org/unsubscribe";  // no {token}
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
    s.unsubscribeUrl = "javascript:alert(1)//{token}";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
    s.unsubscribeUrl = "https://example.org/u/{token}>, <https://evil.example/";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
    s.unsubscribeUrl = "https://example.org/u/{token}\r\nBcc: x@example.org";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
    s.unsubscribeUrl.clear();
    s.unsubscribeMailto = "not an address";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
}

TEST(Message, UnsubscribeUrlIsPersonalisedInAllThreePlaces) {
    MessageSettings s = settings();
    s.unsubscribeUrl = "https://example.org/u?c={campaign_id}&t={token}";
    Campaign c = campaign();
    c.subject = "News ({{email}}) {{unsubscribe_url}}";
    // As stored: sanitised, with the tag in href kept as a tag.
    c.htmlContent = rules::sanitizeHtml(
        "<p>Hi {{name}}</p><p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>");
    ASSERT_NE(c.htmlContent.find("href=\"{{unsubscribe_url}}\""), std::string::npos) << c.htmlContent;
    const CampaignTemplate tmpl(c, s);
    const std::string token = recipientToken(s.verp.secret, 42, 15);
    const std::string url = "https://example.org/u?c=42&t=" + token;
    const auto p = parse(tmpl.render(recipient(15, "b@example.org", "Bo")).data);
    EXPECT_EQ(p->subject(), "News (b@example.org) " + url + " [CID:42]");
    EXPECT_NE(p->html.find("<a href=\"https://example.org/u?c=42&amp;t=" + token + "\">Unsubscribe</a>"),
              std::string::npos)
        << p->html;
    EXPECT_NE(p->text.find("Unsubscribe <" + url + ">"), std::string::npos) << p->text;
}

// A name "javascript:..." must never become a live link: a template in which a value could
// choose a URL's scheme is refused when it is compiled, whichever check finds it.
TEST(Message, ANameThatCouldChooseALinksSchemeIsRefused) {
    for (const char* html : {"<p><a href=\"j{{name}}\">x</a></p>", "<p><a href=\"{{name}}\">x</a></p>",
                             "<p><img src=\"ja{{name}}\"></p>"}) {
        Campaign c = campaign();
        c.htmlContent = html;
        try {
            CampaignTemplate tmpl(c, settings());
            const auto p = parse(tmpl.render(recipient(15, "b@example.org", "javascript:alert(document.domain)//")).data);
            ADD_FAILURE() << html << " was accepted and rendered as: " << p->html;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
            EXPECT_NE(std::string(e.what()).find("HTML content"), std::string::npos) << e.what();
        }
    }
    Campaign fine = campaign();
    fine.htmlContent = "<p><a href=\"https://example.org/?who={{name}}\">x</a></p>";
    EXPECT_NO_THROW(CampaignTemplate(fine, settings()));
}

TEST(Message, UnsubscribeUrlWithoutAnythingConfiguredIsRefused) {
    Campaign c = campaign();
    c.htmlContent = "<a href=\"{{unsubscribe_url}}\">Unsubscribe</a>";
    EXPECT_THROW(CampaignTemplate(c, settings()), Error);
}

TEST(Message, OwnTextContentAndEmptyNames) {
    Campaign c = campaign();
    c.textContent = "{{#name}}Dear {{name}}{{/name}}{{^name}}Hello{{/name}},\nplain text here.\n";
    c.subject = "{{#name}}For {{name}}{{/name}}{{^name}}For you{{/name}}";
    const CampaignTemplate tmpl(c, settings());
    EXPECT_EQ(tmpl.textTemplate(), c.textContent);
    const auto named = parse(tmpl.render(recipient(16, "c@example.org", "Cy")).data);
    EXPECT_EQ(named->text, "Dear Cy,\r\nplain text here.\r\n");
    EXPECT_EQ(named->subject(), "For Cy [CID:42]");
    const ComposedMessage anonymous = tmpl.render(recipient(16, "c@example.org", ""));
    const auto p = parse(anonymous.data);
    EXPECT_EQ(p->text, "Hello,\r\nplain text here.\r\n");
    EXPECT_EQ(p->subject(), "For you [CID:42]");
    EXPECT_EQ(rawHeader(anonymous.data, "To"), "c@example.org");
}

TEST(Message, TextOnlyCampaignIsASingleTextPart) {
    Campaign c = campaign();
    c.htmlContent.clear();
    c.textContent = "Only text for {{name}}.";
    const CampaignTemplate tmpl(c, settings());
    const ComposedMessage m = tmpl.render(recipient(17, "d@example.org", "Di"));
    const auto p = parse(m.data);
    EXPECT_EQ(p->contentType, "text/plain; charset=UTF-8");
    EXPECT_TRUE(p->mail.parts().empty());
    EXPECT_EQ(p->text, "Only text for Di.\r\n");
}

TEST(Message, InvalidCampaignsAreRefusedAtCompileTime) {
    Campaign c = campaign();
    c.subject = "Hi {{nmae}}";
    try {
        CampaignTemplate tmpl(c, settings());
        FAIL() << "an unknown variable compiled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("subject"), std::string::npos) << e.what();
    }
    c = campaign();
    c.htmlContent = "<p>{{{name}}}</p>";
    EXPECT_THROW(CampaignTemplate(c, settings()), Error);
    c = campaign();
    c.htmlContent.clear();
    EXPECT_THROW(CampaignTemplate(c, settings()), Error);
    c = campaign();
    MessageSettings s = settings();
    s.defaultFrom.clear();
    EXPECT_THROW(CampaignTemplate(c, s), Error);
    c.fromAddress = "Bad <not-an-address>";
    EXPECT_THROW(CampaignTemplate(c, settings()), Error);
    s = settings();
    s.messageIdDomain = "bad domain";
    EXPECT_THROW(CampaignTemplate(campaign(), s), Error);
}

TEST(Message, CampaignFromAddressWithAccentedNameAndMessageIdDomain) {
    Campaign c = campaign();
    c.fromAddress = "Café Zürich <hello@café.example>";
    MessageSettings s = settings();
    s.messageIdDomain = "mail.example.net";
    const CampaignTemplate tmpl(c, s);
    const ComposedMessage m = tmpl.render(recipient(18, "e@example.org", "E"));
    EXPECT_EQ(parse(m.data)->from(), "Café Zürich <hello@xn--caf-dma.example>");
    EXPECT_EQ(m.messageId.substr(m.messageId.find('@')), "@mail.example.net>");
}

}  // namespace
}  // namespace campaignd::mail
