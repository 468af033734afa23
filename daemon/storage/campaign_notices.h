// campaign_notices.h: the notices PostgreSQL sends when a campaign is created, changed or
// deleted (a trigger of schema 11 on campaigns: NOTIFY campaignd_campaigns, the campaign id as
// payload), on a connection of their own that LISTENs. The daemon watches socket() on its
// io_context and calls drain() when it is readable: a daemon sharing the database then follows
// another's pause within a moment instead of at its next poll. It promises nothing about
// lost notices (a dropped connection loses them): the poll stays the safety net. SQLite has no
// notices: listen() returns nullptr.
#pragma once

#include <memory>
#include <string>

namespace campaignd::storage {

inline constexpr const char* kCampaignNoticeChannel = "campaignd_campaigns";

class CampaignNotices {
public:
    // LISTENs on a new connection to `url`; nullptr for a URL that is not PostgreSQL. Throws
    // Error(Failed) if the server cannot be reached.
    static std::unique_ptr<CampaignNotices> listen(const std::string& url);
    virtual ~CampaignNotices() = default;

    // The connection's socket, to wait on for reading (owned by the connection: never close it).
    virtual int socket() const = 0;
    // Reads every notice that arrived, without waiting; returns how many. Throws Error(Failed)
    // once the connection is lost (then stop watching the socket).
    virtual int drain() = 0;
};

}  // namespace campaignd::storage
