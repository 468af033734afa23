// pages.cpp: see pages.h.
#include "web/pages.h"

#include "web/request.h"

namespace campaignd::web {
namespace {

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;"
    "line-height:1.5;color:#222;background:#fff}"
    "h1{font-size:1.4em}"
    "button{font-size:1.1em;padding:.6em 1.2em;border:1px solid #333;border-radius:4px;"
    "background:#eee;color:#000;cursor:pointer}"
    ".who{color:#555}";

std::string page(const std::string& title, const std::string& body) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"robots\" content=\"noindex\">"
           "<title>" + escapeHtml(title) + "</title><style>" + kStyle + "</style></head>\n<body>\n" +
           body + "\n</body></html>\n";
}

std::string who(const Description& d) {
    return "<p class=\"who\">" + escapeHtml(d.sender) + " &mdash; " + escapeHtml(d.campaignName) +
           "</p>\n<p>Address: <strong>" + escapeHtml(d.maskedAddress) + "</strong></p>";
}

}  // namespace

std::string notFoundPage() {
    return page("Not found", "<h1>Not found</h1>\n<p>This link is not valid.</p>");
}

std::string unsubscribePage(const Description& d) {
    if (d.unsubscribed)
        return page("Unsubscribed", "<h1>You are unsubscribed</h1>\n" + who(d) +
                                        "\n<p>You will not receive further campaigns from this sender.</p>");
    return page("Unsubscribe",
                "<h1>Unsubscribe</h1>\n" + who(d) +
                    "\n<p>Do you want to stop receiving these e-mails?</p>\n"
                    "<form method=\"post\"><input type=\"hidden\" name=\"unsubscribe\" value=\"yes\">"
                    "<button type=\"submit\">Unsubscribe</button></form>");
}

std::string confirmationPage(const Description& d) {
    return page("Unsubscribed", "<h1>You are unsubscribed</h1>\n" + who(d) +
                                    "\n<p>You will not receive further campaigns from this sender.</p>");
}

std::string viewPage(const std::string& subject, const std::string& html) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"robots\" content=\"noindex\">"
           "<title>" + escapeHtml(subject) + "</title></head>\n<body>\n" + html + "\n</body></html>\n";
}

std::string errorPage(const std::string& title, const std::string& text) {
    return page(title, "<h1>" + escapeHtml(title) + "</h1>\n<p>" + escapeHtml(text) + "</p>");
}

}  // namespace campaignd::web
