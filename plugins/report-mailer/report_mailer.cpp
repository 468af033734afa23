// report_mailer.cpp: the "report-mailer" plugin (reporter capability, ABI 1.3). Turns a finished
// campaign's report into one e-mail for the administrator, built with Poco::Net::MailMessage:
// multipart/mixed holding a multipart/alternative (text/plain and text/html, UTF-8,
// quoted-printable) and, when there were failures, the host's CSV of them as an attachment
// (text/csv, base64). Promises: every value shown in HTML is escaped; the subject and the From
// display name are RFC 2047 encoded when not plain ASCII; no header field carries CR or LF (the
// host checked, and the plugin refuses any it is given anyway); the CSV is attached byte for
// byte (the host made it formula-safe). Refuses: reports whose header fields are missing.
// It never sends: the host hands the message to the campaign's transport.
#include <campaignd/plugin.h>

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/StringPartSource.h>
#include <Poco/Timestamp.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using Poco::Net::MailMessage;

std::string text(const char* s) { return s != nullptr ? s : ""; }

bool hasLineBreakOrControl(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

bool isAscii(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

std::string html(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string number(std::uint64_t n) {
    // 1234567 -> "1,234,567": the report is read by people.
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string percent(double p) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f%%", p);
    return buffer;
}

// The success rate, except for a campaign cancelled part-way: sent / total would count those it
// never tried as failures, so it says what happened instead.
std::string successText(const campaignd_report& r) {
    if (text(r.final_status) == "cancelled")
        return "none: cancelled after sending to " + number(r.sent) + " of " + number(r.total);
    return percent(r.success_percent);
}

std::string utcTime(std::int64_t usec) {
    const std::time_t t = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buffer;
}

// "Name <addr>" with a non-ASCII name -> "=?UTF-8?Q?...?= <addr>"; an address stays as it is.
std::string fromHeader(const std::string& from) {
    const auto open = from.rfind('<');
    if (open == std::string::npos || open == 0 || isAscii(from)) return from;
    std::string name = from.substr(0, open);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    return MailMessage::encodeWord(name, "UTF-8") + " " + from.substr(open);
}

struct Row {
    const char* label;
    std::uint64_t value;
};

std::string textBody(const campaignd_report& r, const Row* rows, std::size_t rowCount) {
    std::ostringstream out;
    out << "Campaign " << r.campaign_id << " \"" << text(r.campaign_name) << "\" is " << text(r.final_status)
        << " (" << utcTime(r.finished_at) << ").\r\n";
    out << "Subject: " << text(r.campaign_subject) << "\r\n\r\n";
    for (std::size_t i = 0; i < rowCount; ++i) {
        std::string label = std::string(rows[i].label) + ":";
        label.resize(20, ' ');
        out << label << number(rows[i].value) << "\r\n";
    }
    std::string label = "Success:";
    label.resize(20, ' ');
    out << label << successText(r) << "\r\n\r\n";
    if (r.reason_count == 0) {
        out << "No failures.\r\n";
    } else {
        out << "Failure reasons:\r\n";
        for (std::size_t i = 0; i < r.reason_count; ++i) {
            std::string count = number(r.reasons[i].count);
            if (count.size() < 10) count.insert(0, 10 - count.size(), ' ');
            out << count << "  " << text(r.reasons[i].reason) << "\r\n";
        }
    }
    if (r.failures_total > 0) {
        out << "\r\nThe attached CSV lists " << number(r.failures_listed) << " of the " << number(r.failures_total)
            << " failed or unknown recipients";
        if (r.failures_listed < r.failures_total) out << " (the first ones)";
        out << ".\r\n";
    }
    out << "\r\n-- \r\ncampaignd\r\n";
    return out.str();
}

std::string htmlBody(const campaignd_report& r, const Row* rows, std::size_t rowCount) {
    std::ostringstream out;
    out << "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>Campaign report</title></head>\r\n"
           "<body style=\"font-family: sans-serif\">\r\n";
    out << "<h1>Campaign " << r.campaign_id << ": " << html(text(r.campaign_name)) << "</h1>\r\n";
    out << "<p>" << html(text(r.final_status)) << " at " << utcTime(r.finished_at) << ". Subject: <em>"
        << html(text(r.campaign_subject)) << "</em></p>\r\n";
    out << "<table>\r\n";
    for (std::size_t i = 0; i < rowCount; ++i)
        out << "<tr><th align=\"left\">" << rows[i].label << "</th><td align=\"right\">" << number(rows[i].value)
            << "</td></tr>\r\n";
    out << "<tr><th align=\"left\">Success</th><td align=\"right\">" << html(successText(r))
        << "</td></tr>\r\n</table>\r\n";
    if (r.reason_count == 0) {
        out << "<p>No failures.</p>\r\n";
    } else {
        out << "<h2>Failure reasons</h2>\r\n<table>\r\n<tr><th align=\"left\">Reason</th><th>Recipients</th></tr>\r\n";
        for (std::size_t i = 0; i < r.reason_count; ++i)
            out << "<tr><td>" << html(text(r.reasons[i].reason)) << "</td><td align=\"right\">"
                << number(r.reasons[i].count) << "</td></tr>\r\n";
        out << "</table>\r\n";
    }
    if (r.failures_total > 0) {
        out << "<p>The attached CSV lists " << number(r.failures_listed) << " of the " << number(r.failures_total)
            << " failed or unknown recipients";
        if (r.failures_listed < r.failures_total) out << " (the first ones)";
        out << ".</p>\r\n";
    }
    out << "</body></html>\r\n";
    return out.str();
}

campaignd_status compose(void* instance, const campaignd_report* report, const campaignd_report_output* output,
                         campaignd_error* err) noexcept {
    (void)instance;
    if (report == nullptr || output == nullptr || output->write == nullptr ||
        report->struct_size < CAMPAIGND_FIELD_END(campaignd_report, date)) {
        campaignd_error_set(err, "report-mailer: no report, no output, or a report from an older host");
        return CAMPAIGND_ERR_INVALID_ARGUMENT;
    }
    const campaignd_report& r = *report;
    try {
        const std::string from = text(r.from), to = text(r.to), messageId = text(r.message_id);
        const std::string name = text(r.campaign_name), subject = text(r.campaign_subject);
        if (from.empty() || to.empty() || messageId.empty()) {
            campaignd_error_set(err, "report-mailer: the report has no From, To or Message-ID");
            return CAMPAIGND_ERR_INVALID_ARGUMENT;
        }
        for (const std::string* field : {&from, &to, &messageId, &name, &subject})
            if (hasLineBreakOrControl(*field)) {
                campaignd_error_set(err, "report-mailer: a header field contains a control character");
                return CAMPAIGND_ERR_INVALID_ARGUMENT;
            }

        const Row rows[] = {{"Total recipients", r.total}, {"Sent", r.sent},       {"Failed", r.failed},
                            {"Unknown", r.unknown},        {"Skipped", r.skipped}, {"Pending", r.pending}};
        const std::size_t rowCount = sizeof rows / sizeof rows[0];

        MailMessage message;
        message.setSender(fromHeader(from));
        message.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, to));
        const std::string title = "Campaign report: " + name + " [" + std::to_string(r.campaign_id) + "]: " +
                                  number(r.sent) + " of " + number(r.total) + " sent" +
                                  (text(r.final_status) == "cancelled" ? ", cancelled" : " (" + percent(r.success_percent) + ")");
        message.setSubject(isAscii(title) ? title : MailMessage::encodeWord(title, "UTF-8"));
        message.setDate(Poco::Timestamp(static_cast<Poco::Timestamp::TimeVal>(r.date)));
        message.set("Message-ID", messageId);
        message.set("Auto-Submitted", "auto-generated");  // RFC 3834: no vacation replies to it
        message.set("X-Campaign-Id", std::to_string(r.campaign_id));

        auto* alternative = new Poco::Net::MultipartSource("multipart/alternative");
        alternative->addPart("", new Poco::Net::StringPartSource(textBody(r, rows, rowCount), "text/plain; charset=UTF-8"),
                             MailMessage::CONTENT_INLINE, MailMessage::ENCODING_QUOTED_PRINTABLE);
        alternative->addPart("", new Poco::Net::StringPartSource(htmlBody(r, rows, rowCount), "text/html; charset=UTF-8"),
                             MailMessage::CONTENT_INLINE, MailMessage::ENCODING_QUOTED_PRINTABLE);
        message.addPart("", alternative, MailMessage::CONTENT_INLINE, MailMessage::ENCODING_7BIT);
        if (r.failures_csv != nullptr && r.failures_csv_len > 0) {
            const std::string file = "campaign-" + std::to_string(r.campaign_id) + "-failures.csv";
            message.addAttachment(file,
                                  new Poco::Net::StringPartSource(std::string(r.failures_csv, r.failures_csv_len),
                                                                  "text/csv; charset=UTF-8", file),
                                  MailMessage::ENCODING_BASE64);
        }

        std::ostringstream out;
        message.write(out);
        const std::string bytes = out.str();
        return output->write(output->output_ctx, bytes.data(), bytes.size(), err);
    } catch (const std::exception& e) {
        campaignd_error_set(err, (std::string("report-mailer: ") + e.what()).c_str());
        return CAMPAIGND_ERR_FAILED;
    } catch (...) {
        campaignd_error_set(err, "report-mailer: unexpected failure");
        return CAMPAIGND_ERR_FAILED;
    }
}

campaignd_status start(const campaignd_host* host, void** instance, campaignd_error* err) noexcept {
    (void)host;
    (void)err;
    *instance = nullptr;
    return CAMPAIGND_OK;
}

void stop(void* instance) noexcept { (void)instance; }

const campaignd_reporter kReporter = {sizeof(campaignd_reporter), compose};

campaignd_plugin_descriptor makeDescriptor() {
    campaignd_plugin_descriptor d{};
    d.abi_major = CAMPAIGND_PLUGIN_ABI_MAJOR;
    d.abi_minor = CAMPAIGND_PLUGIN_ABI_MINOR;
    d.struct_size = sizeof(campaignd_plugin_descriptor);
    d.name = "report-mailer";
    d.version = "1.0.0";
    d.description = "Mails a finished campaign's report (text, HTML and a CSV of the failures) to the administrator";
    d.capabilities = CAMPAIGND_CAP_REPORTER;
    d.start = start;
    d.stop = stop;
    d.reporter = &kReporter;
    return d;
}

const campaignd_plugin_descriptor kDescriptor = makeDescriptor();

}  // namespace

extern "C" CAMPAIGND_PLUGIN_EXPORT const campaignd_plugin_descriptor* campaignd_plugin_entry_v1(void) {
    return &kDescriptor;
}
