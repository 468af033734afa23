// transport_test.cpp: the transport capability through the "transport" test plugin: every
// message of a batch gets exactly one result, whatever the plugin reports; open failures keep
// their kind; malformed batches and settings never reach the plugin.
#include "plugin_host_fixture.h"

namespace {

using campaignd::plugins::DeliveryOutcome;
using campaignd::plugins::DeliveryResult;
using campaignd::plugins::OutgoingMessage;
using campaignd::plugins::SendStatus;
using campaignd::plugins::TransportError;
using campaignd::plugins::TransportSession;
using campaignd::plugins::TransportStatus;

class TransportTest : public PluginHostTest {
protected:
    void SetUp() override {
        PluginHostTest::SetUp();
        install(TEST_PLUGIN_TRANSPORT, "transport.so");
        host_ = std::make_unique<PluginHost>(dir_, lookup());
        host_->start();
        ASSERT_EQ(host_->plugins().at(0).state, PluginState::Running) << host_->plugins().at(0).error;
    }
    void TearDown() override {
        host_.reset();
        PluginHostTest::TearDown();
    }

    std::unique_ptr<TransportSession> open(const std::map<std::string, std::string>& settings = {}) {
        auto transport = host_->transport("transport");
        if (!transport) throw std::runtime_error("no transport plugin");
        return transport->openSession("campaign-mail", settings);
    }

    // Messages with tokens 100, 101, ... to the given recipients.
    std::vector<OutgoingMessage> batch(const std::vector<std::string>& recipients) {
        std::vector<OutgoingMessage> out;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            OutgoingMessage m;
            m.token = 100 + i;
            m.envelopeFrom = "bounces+7-" + std::to_string(i) + "@example.org";
            m.recipient = recipients[i];
            m.messageId = "<" + std::to_string(i) + "@campaignd>";
            m.data = data_;
            out.push_back(std::move(m));
        }
        return out;
    }

    // "TOKEN outcome" for every callback, in order.
    std::pair<SendStatus, std::vector<std::string>> run(TransportSession& session,
                                                        const std::vector<OutgoingMessage>& messages,
                                                        std::vector<DeliveryResult>* all = nullptr) {
        std::vector<std::string> seen;
        SendStatus status = session.send(messages, [&](const DeliveryResult& r) {
            seen.push_back(std::to_string(r.token) + " " + std::string(campaignd::plugins::toString(r.outcome)));
            if (all) all->push_back(r);
        });
        return {status, seen};
    }

    std::string data_ = "Subject: hi\r\n\r\nHello\r\n";
    std::unique_ptr<PluginHost> host_;
};

TEST_F(TransportTest, ResultsCarryEachMessagesOutcomeAndFields) {
    const fs::path marker = root_ / "closed";
    auto session = open({{"CloseMarker", marker.string()}});
    EXPECT_EQ(session->pluginName(), "transport");
    EXPECT_EQ(session->transportName(), "campaign-mail");
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"ann@x.org", "defer@x.org", "fail@x.org", "unknown@x.org"}), &all);
    EXPECT_TRUE(status.ok()) << status.message;
    EXPECT_EQ(status.message, "");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 deferred", "102 failed", "103 unknown"}));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].smtpCode, 250);
    EXPECT_EQ(all[0].enhancedStatus, "2.0.0");
    EXPECT_EQ(all[0].text, "from=<bounces+7-0@example.org> rcpt=<ann@x.org> id=<<0@campaignd>> bytes=22 data=Subject: hi    Hello");  // CR LF sanitised
    EXPECT_EQ(all[1].smtpCode, 451);
    EXPECT_EQ(all[1].enhancedStatus, "4.7.1");
    EXPECT_EQ(all[2].smtpCode, 550);
    EXPECT_EQ(all[2].enhancedStatus, "5.1.1");
    EXPECT_EQ(all[2].text, "no such user");
    EXPECT_EQ(all[3].smtpCode, 0);
    EXPECT_FALSE(fs::exists(marker));
    session.reset();
    EXPECT_EQ(readFile(marker), "close campaign-mail\n");
}

TEST_F(TransportTest, OpenFailuresCarryTheirKindAndThePluginsMessage) {
    const std::vector<std::pair<std::string, TransportStatus>> cases{
        {"auth", TransportStatus::Auth},
        {"tls", TransportStatus::Tls},
        {"connection", TransportStatus::Connection},
        {"failed", TransportStatus::Failed},
        {"invalid", TransportStatus::Failed},
    };
    for (const auto& [setting, expected] : cases) {
        try {
            open({{"OpenStatus", setting}});
            ADD_FAILURE() << setting << ": opened";
        } catch (const TransportError& e) {
            EXPECT_EQ(e.status(), expected) << setting;
            EXPECT_EQ(std::string(e.what()), "transport campaign-mail (plugin transport): OpenStatus=" + setting +
                                                 " in [Transport campaign-mail]");
        }
    }
    try {
        open({{"OpenThrow", "yes"}});
        ADD_FAILURE() << "opened";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.status(), TransportStatus::Failed);
        EXPECT_CONTAINS(e.what(), "open threw an exception (not allowed by the ABI)");
    }
    try {
        open({{std::string("Bad\0Key", 7), "x"}});
        ADD_FAILURE() << "opened";
    } catch (const TransportError& e) {
        EXPECT_CONTAINS(e.what(), "contains a NUL byte");
    }
}

TEST_F(TransportTest, ResultsInReverseOrderAreMatchedByToken) {
    auto session = open({{"Order", "reverse"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "fail@x.org", "c@x.org"}));
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"102 sent", "101 failed", "100 sent"}));
}

TEST_F(TransportTest, AMissingResultAfterOkIsUnknownNeverResent) {
    auto session = open({{"Drop", "1"}});
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org"}), &all);
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "102 sent", "101 unknown"}));
    EXPECT_EQ(all[2].text, "no result from the transport plugin");
    // The session still works.
    EXPECT_TRUE(run(*session, batch({"a@x.org"})).first.ok());
}

TEST_F(TransportTest, AForeignTokenAndASecondResultAreIgnored) {
    auto session = open({{"ForeignToken", "yes"}, {"Duplicate", "yes"}});
    ::testing::internal::CaptureStderr();
    const auto [status, seen] = run(*session, batch({"fail@x.org", "b@x.org"}));
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 failed", "101 sent"}));
    EXPECT_CONTAINS(log, "a result for token 987654321, which it was not given");
    EXPECT_CONTAINS(log, "a second result for token 100");
}

TEST_F(TransportTest, FailingMidBatchWithConnectionLeavesTheRestNotHandedOver) {
    auto session = open({{"FailAt", "2"}, {"FailStatus", "connection"}});
    std::vector<DeliveryResult> all;
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org", "d@x.org"}), &all);
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(status.message, "transport campaign-mail (plugin transport): connection lost at message 2");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 sent", "102 not-handed-over", "103 not-handed-over"}));
    EXPECT_EQ(all[2].text, "not handed over: the session failed before it");
    // The session is broken: the plugin is not called again, nothing is handed over.
    const auto [again, seenAgain] = run(*session, batch({"a@x.org"}));
    EXPECT_EQ(again.status, TransportStatus::Failed);
    EXPECT_CONTAINS(again.message, "the session failed earlier");
    EXPECT_EQ(seenAgain, (std::vector<std::string>{"100 not-handed-over"}));
}

TEST_F(TransportTest, AMessageWhoseDataWentOutBeforeTheDropIsUnknown) {
    auto session = open({{"FailAt", "1"}, {"FailStatus", "connection"}, {"FailUnknown", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org", "c@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown", "102 not-handed-over"}));
}

TEST_F(TransportTest, SessionLevelStatusesKeepTheirKind) {
    for (const auto& [name, kind] : std::vector<std::pair<std::string, TransportStatus>>{
             {"auth", TransportStatus::Auth}, {"tls", TransportStatus::Tls}, {"failed", TransportStatus::Failed}}) {
        auto session = open({{"FailAt", "0"}, {"FailStatus", name}});
        const auto [status, seen] = run(*session, batch({"a@x.org"}));
        EXPECT_EQ(status.status, kind) << name;
        EXPECT_EQ(seen, (std::vector<std::string>{"100 not-handed-over"})) << name;
    }
}

TEST_F(TransportTest, APluginThatBrokeTheRulesIsNotBelievedWhenItFails) {
    // A foreign token, then a failure: the rest may have gone out, so they are unknown.
    auto session = open({{"ForeignToken", "yes"}, {"FailAt", "1"}, {"FailStatus", "connection"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Connection);
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown"}));
}

TEST_F(TransportTest, AnOutcomeOutsideTheAbiIsUnknown) {
    auto session = open({{"BadOutcome", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"100 unknown", "101 sent"}));
}

TEST_F(TransportTest, GarbageInAResultIsBoundedAndCleaned) {
    auto session = open();
    std::vector<DeliveryResult> all;
    run(*session, batch({"garbage@x.org"}), &all);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].outcome, DeliveryOutcome::Sent);
    EXPECT_EQ(all[0].smtpCode, 0);
    EXPECT_EQ(all[0].enhancedStatus, "");
    EXPECT_EQ(all[0].text.size(), 4096u);
    EXPECT_EQ(all[0].text.substr(0, 7), "bad  ?x");
}

TEST_F(TransportTest, AThrowingSendIsCaughtAndTheRestIsUnknown) {
    auto session = open({{"ThrowInSend", "yes"}});
    const auto [status, seen] = run(*session, batch({"a@x.org", "b@x.org"}));
    EXPECT_EQ(status.status, TransportStatus::Failed);
    EXPECT_CONTAINS(status.message, "send threw an exception (not allowed by the ABI)");
    EXPECT_EQ(seen, (std::vector<std::string>{"100 sent", "101 unknown"}));
}

TEST_F(TransportTest, AMalformedBatchIsRefusedBeforeThePluginSeesIt) {
    auto session = open();
    auto messages = batch({"a@x.org", "b@x.org"});
    messages[1].token = messages[0].token;
    std::vector<std::string> seen;
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    messages = batch({"a@x.org", "b@x.org\r\nRCPT TO:<c@x.org>"});
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    messages = batch({"a@x.org"});
    messages[0].envelopeFrom = std::string("x\0y", 3);
    EXPECT_THROW(run(*session, messages), std::invalid_argument);
    // Nothing was sent, and the session is fine.
    EXPECT_EQ(run(*session, batch({"a@x.org"})).second, (std::vector<std::string>{"100 sent"}));
    EXPECT_TRUE(run(*session, {}).first.ok());
}

TEST_F(TransportTest, AnExceptionFromTheCallerIsRethrownAfterThePluginReturned) {
    auto session = open();
    int calls = 0;
    const auto messages = batch({"a@x.org", "b@x.org"});
    try {
        session->send(messages, [&](const DeliveryResult&) {
            ++calls;
            throw campaignd::Error(campaignd::ErrorCode::Failed, "the ledger went away");
        });
        ADD_FAILURE() << "no exception";
    } catch (const campaignd::Error& e) {
        EXPECT_STREQ(e.what(), "the ledger went away");
    }
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(run(*session, messages).first.ok());
}

TEST_F(TransportTest, OlderPluginsClaimingTransportLoadButAreNotUsedAsOne) {
    host_.reset();
    install(TEST_PLUGIN_OLD_TRANSPORT, "a-old-transport.so");
    install(TEST_PLUGIN_GOOD, "b-good.so");  // 1.2, claims transport, NULL table
    install(TEST_PLUGIN_IMPORTER, "c-importer.so");
    ::testing::internal::CaptureStderr();
    host_ = std::make_unique<PluginHost>(dir_, lookup());
    host_->start();
    const std::string log = ::testing::internal::GetCapturedStderr();
    for (const auto& p : host_->plugins()) EXPECT_EQ(p.state, PluginState::Running) << p.name << ": " << p.error;
    EXPECT_EQ(host_->plugins().at(0).abiMinor, 1u);
    EXPECT_FALSE(host_->transport("old-transport").has_value());  // its bait table aborts if used
    EXPECT_FALSE(host_->transport("good").has_value());
    EXPECT_FALSE(host_->transport("c-importer").has_value());
    EXPECT_EQ(host_->findPlugin("old-transport")->transportTable(), nullptr);
    const auto transports = host_->transports();
    ASSERT_EQ(transports.size(), 1u);
    EXPECT_EQ(transports[0].pluginName(), "transport");
    EXPECT_CONTAINS(log, "has no usable transport table");
    // The 1.1 importer still imports.
    EXPECT_TRUE(host_->importer("importer").has_value());
}

}  // namespace
