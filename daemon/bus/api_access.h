// api_access.h: who may use each member of campaignd's bus API. Every method, signal and
// property of dbus-interfaces/*.xml has exactly one line in kApiAccess; the handlers check the
// caller against it (objects.h: ManagerObject::guarded, CampaignObject::guarded), the bus policy
// (systemd/org.campaignd.Campaignd1.conf) lists the same personal-data members, and
// tests/bus/api_access_test.cpp fails when the XML, this table and the policy disagree. A method
// missing here is refused to all but administrators (and logged as the bug it is).
//
// Adding a method: one line below, in the interface's block. Personal data (an address, a name,
// a per-recipient row, in what it returns or what its job's result or signal carries) is
// Access::Personal, and then the same member goes into the bus policy's three lists.
// Header-only so that the integration tests can walk the table too.
#pragma once

#include <optional>
#include <string_view>

namespace campaignd::bus {

enum class Access {
    Open,      // anyone: the daemon's status, counts, the dashboard, campaigns, group names
    Personal,  // returns or carries addresses, names or per-recipient rows: root, the daemon's
               // own user, and members of AdminGroup= or ReaderGroup=
    Admin,     // changes state: root, the daemon's own user, and members of AdminGroup=
    JobOwner,  // the user who started the job, or as Admin; the handler checks (CancelJob)
    Web,       // acts for a recipient who holds a token: root, the daemon's own user and the
               // [Web] User= (campaignd-web) only, not the admin group; the bus policy refuses
               // the whole interface to everyone else
};

enum class MemberKind { Method, Signal, Property };

struct ApiMember {
    std::string_view interface;
    MemberKind kind;
    std::string_view name;
    Access access;
};

inline constexpr std::string_view kManagerInterface = "org.campaignd.Campaignd1.Manager";
inline constexpr std::string_view kCampaignInterface = "org.campaignd.Campaignd1.Campaign";
inline constexpr std::string_view kWebInterface = "org.campaignd.Campaignd1.Web";

// Properties must stay Open: the bus policy cannot tell one property from another (they are
// all read through org.freedesktop.DBus.Properties.Get), so personal data never goes in one.
inline constexpr ApiMember kApiAccess[] = {
    // org.campaignd.Campaignd1.Manager
    {kManagerInterface, MemberKind::Property, "Version", Access::Open},
    {kManagerInterface, MemberKind::Method, "GetStatus", Access::Open},
    {kManagerInterface, MemberKind::Method, "ListPlugins", Access::Open},
    {kManagerInterface, MemberKind::Method, "GetDashboard", Access::Open},
    {kManagerInterface, MemberKind::Method, "GetAccess", Access::Open},
    // Counts, ids and configuration names only; the same numbers are on the metrics socket,
    // which any local user can reach (objects.cpp says why it is open).
    {kManagerInterface, MemberKind::Method, "GetMetrics", Access::Open},
    {kManagerInterface, MemberKind::Method, "DnsRecords", Access::Open},  // public keys and names only
    {kManagerInterface, MemberKind::Method, "SanitizeHtml", Access::Open},
    {kManagerInterface, MemberKind::Method, "ListCampaigns", Access::Open},
    {kManagerInterface, MemberKind::Method, "GetCampaign", Access::Open},
    {kManagerInterface, MemberKind::Method, "ListGroups", Access::Open},
    {kManagerInterface, MemberKind::Signal, "ImportProgress", Access::Open},
    {kManagerInterface, MemberKind::Method, "GetRecipient", Access::Personal},
    {kManagerInterface, MemberKind::Method, "GetRecipientHistory", Access::Personal},
    {kManagerInterface, MemberKind::Method, "ListRecipients", Access::Personal},
    {kManagerInterface, MemberKind::Method, "ListRecipientsEx", Access::Personal},
    {kManagerInterface, MemberKind::Method, "ListBounces", Access::Personal},
    {kManagerInterface, MemberKind::Method, "ExportBounces", Access::Personal},
    {kManagerInterface, MemberKind::Method, "GetImport", Access::Personal},  // errors quote rows
    {kManagerInterface, MemberKind::Method, "GetJob", Access::Personal},     // results name recipients
    {kManagerInterface, MemberKind::Signal, "ImportFinished", Access::Personal},
    {kManagerInterface, MemberKind::Signal, "JobFinished", Access::Personal},
    {kManagerInterface, MemberKind::Method, "CreateCampaign", Access::Admin},
    {kManagerInterface, MemberKind::Method, "CreateCampaignEx", Access::Admin},
    {kManagerInterface, MemberKind::Method, "RunScheduled", Access::Admin},
    {kManagerInterface, MemberKind::Method, "RunScheduledEx", Access::Admin},
    {kManagerInterface, MemberKind::Method, "AddRecipient", Access::Admin},
    {kManagerInterface, MemberKind::Method, "ImportRecipients", Access::Admin},
    {kManagerInterface, MemberKind::Method, "ImportRecipientsData", Access::Admin},
    {kManagerInterface, MemberKind::Method, "CancelImport", Access::Admin},
    {kManagerInterface, MemberKind::Method, "UpdateRecipient", Access::Admin},
    {kManagerInterface, MemberKind::Method, "DeleteRecipient", Access::Admin},
    {kManagerInterface, MemberKind::Method, "DeleteRecipientEx", Access::Admin},
    {kManagerInterface, MemberKind::Method, "UnsubscribeRecipient", Access::Admin},
    {kManagerInterface, MemberKind::Method, "ListSuppressions", Access::Personal},
    {kManagerInterface, MemberKind::Method, "AddSuppression", Access::Admin},
    {kManagerInterface, MemberKind::Method, "RemoveSuppression", Access::Admin},
    {kManagerInterface, MemberKind::Method, "ImportSuppressions", Access::Admin},
    {kManagerInterface, MemberKind::Method, "CreateGroup", Access::Admin},
    {kManagerInterface, MemberKind::Method, "DeleteGroup", Access::Admin},
    {kManagerInterface, MemberKind::Method, "AddGroupMembers", Access::Admin},
    {kManagerInterface, MemberKind::Method, "RemoveGroupMembers", Access::Admin},
    {kManagerInterface, MemberKind::Method, "IngestBounce", Access::Admin},
    {kManagerInterface, MemberKind::Method, "ProcessBounces", Access::Admin},
    {kManagerInterface, MemberKind::Method, "CancelJob", Access::JobOwner},

    // org.campaignd.Campaignd1.Campaign
    {kCampaignInterface, MemberKind::Property, "Id", Access::Open},
    {kCampaignInterface, MemberKind::Property, "Name", Access::Open},
    {kCampaignInterface, MemberKind::Property, "Subject", Access::Open},
    {kCampaignInterface, MemberKind::Property, "Status", Access::Open},
    {kCampaignInterface, MemberKind::Property, "StatusReason", Access::Open},
    {kCampaignInterface, MemberKind::Property, "ScheduledTime", Access::Open},
    {kCampaignInterface, MemberKind::Property, "CreatedAt", Access::Open},
    {kCampaignInterface, MemberKind::Property, "RecipientCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "SentCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "FailedCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "PendingCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "UnknownCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "SkippedCount", Access::Open},
    {kCampaignInterface, MemberKind::Property, "InFlightCount", Access::Open},
    {kCampaignInterface, MemberKind::Method, "Describe", Access::Open},
    {kCampaignInterface, MemberKind::Method, "GetSummary", Access::Open},
    {kCampaignInterface, MemberKind::Method, "ListRecipients", Access::Personal},
    {kCampaignInterface, MemberKind::Signal, "Progress", Access::Open},
    {kCampaignInterface, MemberKind::Method, "Update", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Delete", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Attach", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Schedule", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Unschedule", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Send", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Pause", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Resume", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "ResumeEx", Access::Admin},
    {kCampaignInterface, MemberKind::Method, "Cancel", Access::Admin},

    // org.campaignd.Campaignd1.Web (campaignd-web; the handlers check with requireWebCaller)
    {kWebInterface, MemberKind::Method, "DescribeToken", Access::Web},
    {kWebInterface, MemberKind::Method, "Unsubscribe", Access::Web},
    {kWebInterface, MemberKind::Method, "ViewMessage", Access::Web},
};

// The access of a method of `interface`; nullopt when the table does not list it.
constexpr std::optional<Access> methodAccess(std::string_view interface, std::string_view method) {
    for (const auto& m : kApiAccess)
        if (m.kind == MemberKind::Method && m.interface == interface && m.name == method) return m.access;
    return std::nullopt;
}

constexpr std::string_view toString(Access a) {
    switch (a) {
    case Access::Open: return "open";
    case Access::Personal: return "personal";
    case Access::Admin: return "admin";
    case Access::JobOwner: return "job-owner";
    case Access::Web: return "web";
    }
    return "?";
}

}  // namespace campaignd::bus
