// campaign_notices.cpp: see campaign_notices.h. libpqxx 6.4: a notification_receiver on a
// pqxx::connection of its own (a LISTEN must not share a connection with transactions, whose
// rollback would drop it); get_notifs() reads what the socket holds without blocking.
#include "storage/campaign_notices.h"

#include <pqxx/pqxx>

#include "core/error.h"

namespace campaignd::storage {
namespace {

class PostgresNotices final : public CampaignNotices {
public:
    explicit PostgresNotices(const std::string& url) : connection_(url), receiver_(connection_, *this) {
        connection_.get_notifs();  // issues the LISTEN now, not at the first drain
    }

    int socket() const override { return connection_.sock(); }

    int drain() override {
        try {
            if (!connection_.is_open()) throw Error(ErrorCode::Failed, "database: the notice connection is closed");
            received_ = 0;
            connection_.get_notifs();
            return received_;
        } catch (const pqxx::broken_connection& e) {
            throw Error(ErrorCode::Failed, std::string("database: the notice connection broke: ") + e.what());
        }
    }

private:
    class Receiver final : public pqxx::notification_receiver {
    public:
        Receiver(pqxx::connection_base& c, PostgresNotices& owner)
            : pqxx::notification_receiver(c, kCampaignNoticeChannel), owner_(owner) {}
        void operator()(const std::string&, int) override { ++owner_.received_; }

    private:
        PostgresNotices& owner_;
    };

    pqxx::connection connection_;
    int received_ = 0;
    Receiver receiver_;
};

}  // namespace

std::unique_ptr<CampaignNotices> CampaignNotices::listen(const std::string& url) {
    if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) return nullptr;
    try {
        return std::make_unique<PostgresNotices>(url);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorCode::Failed, std::string("database: cannot listen for campaign notices: ") + e.what());
    }
}

}  // namespace campaignd::storage
