// report_mailer_test.cpp: a campaign with sent, failed, unknown, skipped and pending recipients
// in a real SQLite store; services::mailCampaignReport composes its report with the built
// report-mailer.so and sends it through the built maildir.so, both loaded by the real
// PluginHost. The file that lands in the Maildir is parsed back as MIME with Poco::Net (an
// independent reader) and checked as the administrator would read it: the headers, the text
// and HTML parts with the right numbers and reasons, escaped HTML, and the CSV attachment with
// formula-looking cells neutralised.
#include <gtest/gtest.h>

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/PartHandler.h>
#include <Poco/Net/QuotedPrintableDecoder.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "plugin-host/plugin_host.h"
#include "services/report_mailer.h"
#include "services/report_service.h"
#include "storage/store.h"
#include "support/network.h"
#include "support/process.h"
#include "support/smtp_sink.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace campaignd;
using campaignd::test::TempDir;
using Kind = storage::LedgerOutcome::Kind;

constexpr Usec kNow = 1'764'288'000'000'000;  // 2025-11-28 00:00:00 UTC

struct Part {
    std::string contentType;
    std::string disposition;
    std::string body;  // transfer encoding undone
};

std::string unQuotedPrintable(const std::string& encoded) {
    std::istringstream in(encoded);
    Poco::Net::QuotedPrintableDecoder decoder(in);
    std::string out;
    Poco::StreamCopier::copyToString(decoder, out);
    return out;
}

// Collects the top-level parts; a multipart/alternative part is split into its own parts.
class Collector : public Poco::Net::PartHandler {
public:
    void handlePart(const Poco::Net::MessageHeader& header, std::istream& stream) override {
        std::string body;
        Poco::StreamCopier::copyToString(stream, body);
        const std::string type = header.get("Content-Type", "");
        if (type.rfind("multipart/alternative", 0) == 0) {
            std::string mediaType;
            Poco::Net::NameValueCollection parameters;
            Poco::Net::MessageHeader::splitParameters(type, mediaType, parameters);
            std::istringstream in(body);
            Poco::Net::MultipartReader reader(in, parameters.get("boundary"));
            while (reader.hasNextPart()) {
                Poco::Net::MessageHeader inner;
                reader.nextPart(inner);
                std::string content;
                Poco::StreamCopier::copyToString(reader.stream(), content);
                if (inner.get("Content-Transfer-Encoding", "") == "quoted-printable") content = unQuotedPrintable(content);
                alternatives.push_back({inner.get("Content-Type", ""), inner.get("Content-Disposition", ""), content});
            }
        }
        parts.push_back({type, header.get("Content-Disposition", ""), body});
    }
    std::vector<Part> parts;
    std::vector<Part> alternatives;
};

class ReportMailer : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directory(dir_ / "plugins");
        fs::copy_file(REPORT_MAILER_PLUGIN, dir_ / "plugins" / "report-mailer.so");
        fs::copy_file(MAILDIR_PLUGIN, dir_ / "plugins" / "maildir.so");
        fs::copy_file(SMTP_PLUGIN, dir_ / "plugins" / "smtp.so");
        host_ = std::make_unique<plugins::PluginHost>(dir_ / "plugins", nullptr);
        host_->start();
        for (const auto& p : host_->plugins()) ASSERT_EQ(p.state, plugins::PluginState::Running) << p.name << p.error;
        url_ = "sqlite:" + (dir_ / "campaignd.sqlite").string();
        store_ = storage::openStore(url_);
    }

    Id addRecipient(const std::string& email, const std::string& name) {
        Recipient r;
        r.email = email;
        r.name = name;
        r.createdAt = kNow;
        return store_->insertRecipient(r);
    }

    // 10 recipients: 4 sent, 3 failed (two reasons, one a formula), 1 unknown, 1 skipped
    // (unsubscribed before sending), 1 pending.
    Id makeCampaign(const std::string& name) {
        Campaign c;
        c.name = name;
        c.subject = "Winter news";
        c.status = CampaignStatus::InProgress;
        c.createdAt = kNow;
        c.updatedAt = kNow;
        const Id id = store_->insertCampaign(c);
        std::vector<Id> recipients;
        const char* const names[] = {"Ada", "Bob", "Zoë Ünal", "=HYPERLINK(\"http://evil\")", "Eve",
                                     "Finn", "Gus", "Hal", "Ivy", "Jo"};
        for (int i = 0; i < 10; ++i) {
            recipients.push_back(addRecipient("r" + std::to_string(i) + "@example.org", names[i]));
            EXPECT_TRUE(store_->attachRecipient(id, recipients.back()));
        }
        Recipient skipped = *store_->findRecipient("r8@example.org");
        skipped.status = SubscriptionStatus::Unsubscribed;
        store_->updateRecipient(skipped);

        auto batch = store_->claimBatch(id, "w", 9, kNow);  // r8 is skipped on the way
        EXPECT_EQ(batch.size(), 9u);
        std::vector<storage::HandOver> items;
        for (const auto& b : batch)
            if (b.email != "r9@example.org") items.push_back({b.ledgerId, "<m" + std::to_string(b.ledgerId) + "@x>"});
        store_->markHandedOver("w", items);
        std::vector<storage::LedgerOutcome> outcomes;
        for (int i = 0; i < 4; ++i) outcomes.push_back({batch[std::size_t(i)].ledgerId, Kind::Sent, "", std::nullopt});
        outcomes.push_back({batch[4].ledgerId, Kind::Failed, "550 5.1.1 <r4@example.org>: User unknown", std::nullopt});
        outcomes.push_back({batch[5].ledgerId, Kind::Failed, "550 5.1.1 <r4@example.org>: User unknown", std::nullopt});
        outcomes.push_back({batch[6].ledgerId, Kind::Failed, "=cmd|' /C calc'!A0", std::nullopt});
        store_->recordOutcomes("w", outcomes, kNow);
        // batch[7] (r7) was handed over: unknown; r9 was only claimed: pending again. r3's
        // name is a formula, but r3 was sent: not in the CSV.
        store_->recoverInterrupted(std::nullopt);
        return id;
    }

    std::unique_ptr<plugins::TransportSession> maildir() {
        return host_->transport("maildir")->openSession("local", {{"Path", (dir_ / "Maildir").string()}});
    }

    std::vector<std::string> delivered() {
        std::vector<std::string> out;
        if (!fs::exists(dir_ / "Maildir" / "new")) return out;
        for (const auto& e : fs::directory_iterator(dir_ / "Maildir" / "new")) {
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            out.push_back(s.str());
        }
        return out;
    }

    // A ReportMailer as the daemon wires it, sending through `transport`.
    std::unique_ptr<services::ReportMailer> mailer(services::ReportTransport transport, std::string admin) {
        services::ReportMailer::Dependencies deps;
        deps.openCampaigns = [url = url_] { return storage::openStore(url); };
        deps.openReports = [url = url_] { return storage::openStore(url); };
        deps.reporter = [this] { return host_->reporter("report-mailer"); };
        deps.transport = [this](const std::string& plugin) { return host_->transport(plugin); };
        deps.transportFor = [transport](const Campaign&) { return std::optional<services::ReportTransport>(transport); };
        deps.clock = [] { return kNow; };
        services::ReportSettings settings;
        settings.adminEmail = std::move(admin);
        return std::make_unique<services::ReportMailer>(deps, settings);
    }

    TempDir dir_{"campaignd-report-test"};
    std::string url_;
    std::unique_ptr<plugins::PluginHost> host_;
    std::unique_ptr<storage::Store> store_;
};

TEST_F(ReportMailer, TheReportArrivesWithItsPartsNumbersAndAFormulaSafeCsv) {
    const Id id = makeCampaign("Winter <b>2026</b> & Grüße");
    services::ReportSettings settings;
    settings.adminEmail = "postmaster@example.org";
    auto session = maildir();
    const services::ReportDelivery delivery =
        services::mailCampaignReport(*store_, *store_, *host_->reporter("report-mailer"), *session, settings, id, kNow);
    EXPECT_EQ(delivery.outcome, plugins::DeliveryOutcome::Sent) << delivery.text;

    const auto files = delivered();
    ASSERT_EQ(files.size(), 1u);
    const std::string& raw = files[0];
    // The maildir plugin's delivery headers, then the message; CRLF throughout.
    EXPECT_EQ(raw.rfind("Return-Path: <postmaster@example.org>\r\nDelivered-To: postmaster@example.org\r\n", 0), 0u);
    for (std::size_t at = raw.find('\n'); at != std::string::npos; at = raw.find('\n', at + 1))
        ASSERT_EQ(raw[at - 1], '\r') << "a bare LF at byte " << at;

    std::istringstream in(raw);
    Poco::Net::MailMessage message;
    Collector collector;
    message.read(in, collector);
    EXPECT_EQ(message.get("To"), "<postmaster@example.org>");
    EXPECT_EQ(message.get("From"), "campaignd <postmaster@example.org>");
    EXPECT_EQ(message.get("Message-ID"), delivery.messageId);
    EXPECT_EQ(message.get("Auto-Submitted"), "auto-generated");
    EXPECT_EQ(message.get("X-Campaign-Id"), std::to_string(id));
    // RFC 2047, as the name is not ASCII; Poco decodes it (keeping the folding space between
    // two encoded words, which RFC 2047 says to drop: compared without spaces).
    EXPECT_NE(raw.find("\r\nSubject: =?UTF-8?q?Campaign_report"), std::string::npos);
    std::string subject = message.get("Subject");
    subject.erase(std::remove(subject.begin(), subject.end(), ' '), subject.end());
    EXPECT_EQ(subject, "Campaignreport:Winter<b>2026</b>&Grüße[" + std::to_string(id) + "]:4of10sent(40.0%)");
    EXPECT_EQ(message.getContentType().rfind("multipart/mixed", 0), 0u) << message.getContentType();

    ASSERT_EQ(collector.parts.size(), 2u);
    ASSERT_EQ(collector.alternatives.size(), 2u);
    const Part& text = collector.alternatives[0];
    const Part& html = collector.alternatives[1];
    EXPECT_EQ(text.contentType, "text/plain; charset=UTF-8");
    EXPECT_EQ(html.contentType, "text/html; charset=UTF-8");
    for (const char* line : {"Total recipients:   10\r\n", "Sent:               4\r\n", "Failed:             3\r\n",
                             "Unknown:            1\r\n", "Skipped:            1\r\n", "Pending:            1\r\n",
                             "Success:            40.0%\r\n",
                             "         2  550 5.1.1 <r4@example.org>: User unknown\r\n",
                             "         1  =cmd|' /C calc'!A0\r\n",
                             "The attached CSV lists 4 of the 4 failed or unknown recipients.\r\n"})
        EXPECT_NE(text.body.find(line), std::string::npos) << "missing \"" << line << "\" in:\n" << text.body;
    EXPECT_NE(text.body.find("\"Winter <b>2026</b> & Grüße\" is in_progress"), std::string::npos) << text.body;
    // HTML: the campaign's name and the reasons are text, never markup.
    EXPECT_NE(html.body.find("Winter &lt;b&gt;2026&lt;/b&gt; &amp; Grüße"), std::string::npos) << html.body;
    EXPECT_EQ(html.body.find("<b>2026"), std::string::npos);
    EXPECT_NE(html.body.find("&lt;r4@example.org&gt;: User unknown</td><td align=\"right\">2</td>"),
              std::string::npos) << html.body;
    EXPECT_NE(html.body.find("<th align=\"left\">Sent</th><td align=\"right\">4</td>"), std::string::npos);

    const Part& csv = collector.parts[1];
    EXPECT_EQ(csv.contentType.rfind("text/csv", 0), 0u) << csv.contentType;
    EXPECT_NE(csv.disposition.find("attachment"), std::string::npos);
    EXPECT_NE(csv.disposition.find("campaign-" + std::to_string(id) + "-failures.csv"), std::string::npos);
    EXPECT_EQ(csv.body,
              "email,name,status,reason,attempts\r\n"
              "r4@example.org,Eve,failed,550 5.1.1 <r4@example.org>: User unknown,1\r\n"
              "r5@example.org,Finn,failed,550 5.1.1 <r4@example.org>: User unknown,1\r\n"
              "r6@example.org,Gus,failed,'=cmd|' /C calc'!A0,1\r\n"
              "r7@example.org,Hal,unknown,interrupted after the hand-over to the transport; outcome unknown,0\r\n");
}

TEST_F(ReportMailer, NamesThatLookLikeFormulasAreNeutralisedAndTheListIsCut) {
    const Id id = makeCampaign("Plain");
    // r4's name becomes a formula; the CSV keeps at most 2 rows.
    Recipient r4 = *store_->findRecipient("r4@example.org");
    r4.name = "-2+3";
    store_->updateRecipient(r4);
    services::ReportSettings settings;
    settings.adminEmail = "postmaster@example.org";
    settings.from = "Campaign Robot <robot@example.org>";
    settings.maxFailureRows = 2;
    const plugins::CampaignReport report = services::buildCampaignReport(*store_, *store_, id, settings, kNow);
    EXPECT_EQ(report.failuresListed, 2u);
    EXPECT_EQ(report.failuresTotal, 4u);
    EXPECT_EQ(report.failuresCsv,
              "email,name,status,reason,attempts\r\n"
              "r4@example.org,'-2+3,failed,550 5.1.1 <r4@example.org>: User unknown,1\r\n"
              "r5@example.org,Finn,failed,550 5.1.1 <r4@example.org>: User unknown,1\r\n");
    const std::string message = host_->reporter("report-mailer")->compose(report);
    EXPECT_NE(message.find("From: Campaign Robot <robot@example.org>\r\n"), std::string::npos);
    EXPECT_NE(message.find("Subject: Campaign report: Plain [" + std::to_string(id) + "]: 4 of 10 sent (40.0%)\r\n"),
              std::string::npos) << message.substr(0, 600);
    std::istringstream in(message);
    Poco::Net::MailMessage parsed;
    Collector collector;
    parsed.read(in, collector);
    ASSERT_EQ(collector.alternatives.size(), 2u);
    EXPECT_NE(collector.alternatives[0].body.find("lists 2 of the 4 failed or unknown recipients (the first ones)"),
              std::string::npos) << collector.alternatives[0].body;
}

TEST_F(ReportMailer, ACampaignWithoutFailuresHasNoAttachment) {
    Campaign c;
    c.name = "Clean";
    c.subject = "s";
    c.status = CampaignStatus::Completed;
    c.createdAt = kNow;
    c.updatedAt = kNow;
    const Id id = store_->insertCampaign(c);
    services::ReportSettings settings;
    settings.adminEmail = "postmaster@example.org";
    const std::string message =
        host_->reporter("report-mailer")->compose(services::buildCampaignReport(*store_, *store_, id, settings, kNow));
    std::istringstream in(message);
    Poco::Net::MailMessage parsed;
    Collector collector;
    parsed.read(in, collector);
    ASSERT_EQ(collector.parts.size(), 1u);
    ASSERT_EQ(collector.alternatives.size(), 2u);
    EXPECT_NE(collector.alternatives[0].body.find("No failures.\r\n"), std::string::npos);
    EXPECT_NE(collector.alternatives[0].body.find("Success:            0.0%"), std::string::npos);
}

// Cancelled part-way, a campaign has no success rate: sent / total would count everyone it never
// tried as a failure. The report says how far it got.
TEST_F(ReportMailer, ACancelledCampaignSaysHowFarItGotInsteadOfASuccessRate) {
    Campaign c;
    c.name = "Stopped";
    c.subject = "s";
    c.status = CampaignStatus::Cancelled;
    c.createdAt = kNow;
    c.updatedAt = kNow;
    const Id id = store_->insertCampaign(c);
    services::ReportSettings settings;
    settings.adminEmail = "postmaster@example.org";
    const std::string message =
        host_->reporter("report-mailer")->compose(services::buildCampaignReport(*store_, *store_, id, settings, kNow));
    std::istringstream in(message);
    Poco::Net::MailMessage parsed;
    Collector collector;
    parsed.read(in, collector);
    ASSERT_EQ(collector.alternatives.size(), 2u);
    EXPECT_NE(collector.alternatives[0].body.find("Success:            none: cancelled after sending to 0 of 0\r\n"),
              std::string::npos)
        << collector.alternatives[0].body;
    EXPECT_NE(collector.alternatives[1].body.find("none: cancelled after sending to 0 of 0"), std::string::npos);
    EXPECT_EQ(collector.alternatives[0].body.find('%'), std::string::npos) << collector.alternatives[0].body;
    EXPECT_NE(parsed.getSubject().find("0 of 0 sent, cancelled"), std::string::npos) << parsed.getSubject();
}

TEST_F(ReportMailer, RefusesWhatCannotBeSentSafely) {
    const Id id = makeCampaign("Plain");
    auto session = maildir();
    const auto reporter = *host_->reporter("report-mailer");
    services::ReportSettings none;
    try {
        services::mailCampaignReport(*store_, *store_, reporter, *session, none, id, kNow);
        ADD_FAILURE() << "no admin address, yet no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("AdminEmail="), std::string::npos) << e.what();
    }
    services::ReportSettings settings;
    settings.adminEmail = "postmaster@example.org";
    try {
        services::mailCampaignReport(*store_, *store_, reporter, *session, settings, 4242, kNow);
        ADD_FAILURE() << "no such campaign, yet no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
    // A name with a line break (not possible through the services, but the store takes it)
    // never reaches a header.
    Campaign c = *store_->findCampaign(id);
    c.name = "Plain\r\nBcc: everyone@example.org";
    store_->updateCampaign(c);
    EXPECT_THROW(services::mailCampaignReport(*store_, *store_, reporter, *session, settings, id, kNow), Error);
    EXPECT_TRUE(delivered().empty());
}

TEST_F(ReportMailer, ACompletedCampaignsReportGoesThroughItsSmtpTransportToTheAdmin) {
    if (!campaignd::test::SmtpSink::available()) GTEST_SKIP() << "smtp-sink (package postfix) is not installed";
    const Id id = makeCampaign("Winter");
    campaignd::test::SmtpSink sink;
    auto reports = mailer({"relay", "smtp", {{"URL", sink.url()}}}, "postmaster@example.org");
    reports->campaignCompleted(*store_->findCampaign(id));  // returns at once
    ASSERT_TRUE(reports->waitIdle(std::chrono::seconds(30)));
    EXPECT_EQ(reports->sentCount(), 1u);
    EXPECT_EQ(reports->failedCount(), 0u);
    ASSERT_TRUE(sink.waitForMessages(1));
    const auto messages = sink.messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].sender, "postmaster@example.org");
    EXPECT_EQ(messages[0].recipients, std::vector<std::string>{"postmaster@example.org"});
    EXPECT_NE(messages[0].data.find("Subject: Campaign report: Winter [" + std::to_string(id) + "]: 4 of 10 sent"),
              std::string::npos) << messages[0].data.substr(0, 800);
    EXPECT_NE(messages[0].data.find("campaign-" + std::to_string(id) + "-failures.csv"), std::string::npos);
}

TEST_F(ReportMailer, AFailedReportIsLoggedAndCountedAndTheNextOneStillGoes) {
    const Id id = makeCampaign("Winter");
    const campaignd::test::Endpoint nowhere = campaignd::test::freeLoopbackEndpoint();
    auto down = mailer({"relay", "smtp", {{"URL", "smtp://" + nowhere.hostPort()}}}, "postmaster@example.org");
    down->campaignCompleted(*store_->findCampaign(id));
    ASSERT_TRUE(down->waitIdle(std::chrono::seconds(30)));
    EXPECT_EQ(down->failedCount(), 1u);
    EXPECT_EQ(down->sentCount(), 0u);
    // The campaign and its ledger are untouched by the failed report.
    EXPECT_EQ(store_->campaignSummary(id).sent, 4);

    auto local = mailer({"local", "maildir", {{"Path", (dir_ / "Maildir").string()}}}, "postmaster@example.org");
    local->campaignCompleted(*store_->findCampaign(id));
    local->campaignCompleted(*store_->findCampaign(id));
    ASSERT_TRUE(local->waitIdle(std::chrono::seconds(30)));
    EXPECT_EQ(local->sentCount(), 2u);
    EXPECT_EQ(delivered().size(), 2u);

    // Without an admin address nothing is queued.
    auto nobody = mailer({"local", "maildir", {{"Path", (dir_ / "Maildir").string()}}}, "");
    nobody->campaignCompleted(*store_->findCampaign(id));
    ASSERT_TRUE(nobody->waitIdle(std::chrono::seconds(5)));
    EXPECT_EQ(nobody->sentCount() + nobody->failedCount(), 0u);
    EXPECT_EQ(delivered().size(), 2u);
}

}  // namespace
