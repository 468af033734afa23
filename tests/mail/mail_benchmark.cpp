// mail_benchmark.cpp: how many personalised messages one core composes per second: a 5 KB HTML
// newsletter with {{name}} in the subject and the body (text part derived from the HTML),
// List-Unsubscribe configured, 100,000 recipients with varied names. Not a test; prints the
// figure. Usage: campaignd-mail-benchmark [messages]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "mail/message.h"

int main(int argc, char** argv) {
    using namespace campaignd;
    const long count = argc > 1 ? std::atol(argv[1]) : 100000;

    Campaign campaign;
    campaign.id = 42;
    campaign.subject = "Spring news for {{name}}";
    std::string html =
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{font-family:sans-serif}"
        "td{padding:8px}</style></head><body><table width=\"600\" cellpadding=\"0\"><tr><td>"
        "<h1>Hello {{name}},</h1>";
    int section = 0;
    while (html.size() < 4900) {
        ++section;
        html += "<h2>Section " + std::to_string(section) + ": what is new this spring</h2>"
                "<p>Our gardens are in bloom &amp; the shop has new seeds, tools and books. "
                "Grüße from the team, with a <a href=\"https://example.org/news/" +
                std::to_string(section) + "\">link to the full story</a> and more words to read."
                "</p><ul><li>Tulips</li><li>Daffodils</li></ul>";
    }
    html += "<p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p></td></tr></table></body></html>";
    campaign.htmlContent = html;

    mail::MessageSettings settings;
    settings.defaultFrom = "Example News <news@example.org>";
    settings.verp.domain = "bounces.example.org";
    settings.verp.secret = "benchmark-secret-0123456789";
    settings.unsubscribeUrl = "https://example.org/unsubscribe/{campaign_id}/{token}";
    settings.unsubscribeMailto = "unsubscribe@example.org";

    const auto compileStart = std::chrono::steady_clock::now();
    const mail::CampaignTemplate tmpl(campaign, settings);
    const auto compileEnd = std::chrono::steady_clock::now();

    const char* names[] = {"Ana", "José Müller", "山田 太郎", "Doe, John", "Zoë Ångström", ""};
    Recipient recipient;
    std::size_t bytes = 0;
    // CPU time as well as wall time: on a shared machine the wall clock includes waiting.
    const auto cpuNow = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
    };
    const double cpuStart = cpuNow();
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        recipient.id = i + 1;
        recipient.email = "user" + std::to_string(i) + "@example.org";
        recipient.name = names[i % 6];
        bytes += tmpl.render(recipient).data.size();
    }
    const auto end = std::chrono::steady_clock::now();
    const double cpu = cpuNow() - cpuStart;
    const double seconds = std::chrono::duration<double>(end - start).count();
    std::printf("HTML template: %zu bytes; compile: %.2f ms\n", html.size(),
                std::chrono::duration<double, std::milli>(compileEnd - compileStart).count());
    std::printf("%ld messages, %.0f bytes average\n", count, double(bytes) / count);
    std::printf("CPU time:  %.3f s: %.0f messages/s on one core, %.1f us each\n", cpu, count / cpu,
                cpu / count * 1e6);
    std::printf("wall time: %.3f s: %.0f messages/s\n", seconds, count / seconds);
    return 0;
}
