// dkim_sign_bench.cpp: what DKIM signing costs per message on one core. The same campaign (a
// 5 KB HTML newsletter, {{name}} in subject and body, List-Unsubscribe) is rendered for varied
// recipients four ways: unsigned, signed with rsa-2048, with ed25519, and with both (two
// signatures). Keys are made with openssl in a temporary directory. The four run interleaved,
// one round each in turn, `rounds` times; each round's figure is thread CPU time (the machine is
// shared), and the medians and the ratios to unsigned are printed as a Markdown table for
// BENCHMARKS.md. Not a test. Usage: campaignd-dkim-sign-bench [messages per round] [rounds]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "mail/dkim.h"
#include "mail/message.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using namespace campaignd;

double cpuNow() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

Campaign newsletter() {
    Campaign campaign;
    campaign.id = 42;
    campaign.subject = "Spring news for {{name}}";
    std::string html = "<html><body><table width=\"600\"><tr><td><h1>Hello {{name}},</h1>";
    for (int section = 1; html.size() < 4900; ++section)
        html += "<h2>Section " + std::to_string(section) + ": what is new this spring</h2><p>Our gardens are in "
                "bloom &amp; the shop has new seeds, tools and books. Grüße from the team, with a <a "
                "href=\"https://example.org/news/" + std::to_string(section) + "\">link</a>.</p>";
    html += "<p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p></td></tr></table></body></html>";
    campaign.htmlContent = html;
    return campaign;
}

}  // namespace

int main(int argc, char** argv) {
    const long count = argc > 1 ? std::atol(argv[1]) : 2000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    test::TempDir dir("campaignd-dkim-bench");
    const auto key = [&](const char* name, std::vector<std::string> args) {
        std::vector<std::string> argv{"openssl", "genpkey"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"-out", (dir / name).string()});
        if (test::run(argv).exitCode != 0) std::exit(1);
        return test::readFile(dir / name);
    };
    const auto rsa = mail::parseDkimKey("example.org", "rsa", mail::DkimAlgorithm::RsaSha256,
                                        key("rsa.pem", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}));
    const auto ed = mail::parseDkimKey("example.org", "ed", mail::DkimAlgorithm::Ed25519Sha256,
                                       key("ed.pem", {"-algorithm", "ed25519"}));

    struct Variant {
        const char* name;
        std::shared_ptr<const mail::DkimSigner> signer;
        std::unique_ptr<mail::CampaignTemplate> tmpl;
        std::vector<double> rates;
    };
    std::vector<Variant> variants;
    variants.push_back({"unsigned", nullptr, nullptr, {}});
    variants.push_back({"rsa-2048", std::make_shared<const mail::DkimSigner>(std::vector{rsa}), nullptr, {}});
    variants.push_back({"ed25519", std::make_shared<const mail::DkimSigner>(std::vector{ed}), nullptr, {}});
    variants.push_back({"rsa-2048 + ed25519", std::make_shared<const mail::DkimSigner>(std::vector{rsa, ed}), nullptr, {}});
    for (auto& v : variants) {
        mail::MessageSettings settings;
        settings.defaultFrom = "Example News <news@example.org>";
        settings.verp.domain = "example.org";
        settings.verp.secret = "benchmark-secret-0123456789";
        settings.unsubscribeUrl = "https://example.org/unsubscribe/{campaign_id}/{token}";
        settings.dkim = v.signer;
        v.tmpl = std::make_unique<mail::CampaignTemplate>(newsletter(), settings);
    }

    const char* names[] = {"Ana", "José Müller", "山田 太郎", "Doe, John", "Zoë Ångström", ""};
    std::size_t bytes = 0;
    for (int round = 0; round < rounds; ++round) {
        for (auto& v : variants) {
            Recipient r;
            const double start = cpuNow();
            for (long i = 0; i < count; ++i) {
                r.id = i + 1;
                r.email = "user" + std::to_string(i) + "@example.org";
                r.name = names[i % 6];
                bytes += v.tmpl->render(r).data.size();
            }
            v.rates.push_back(count / (cpuNow() - start));
        }
    }
    const auto median = [](std::vector<double> xs) {
        std::sort(xs.begin(), xs.end());
        return xs[xs.size() / 2];
    };
    const double base = median(variants.front().rates);
    std::printf("%ld messages per round, %d rounds, interleaved; thread CPU time\n\n", count, rounds);
    std::printf("| signing | messages/s per core (median) | us per message | vs unsigned |\n|---|---:|---:|---:|\n");
    for (const auto& v : variants) {
        const double m = median(v.rates);
        std::printf("| %s | %.0f | %.1f | %.3f |\n", v.name, m, 1e6 / m, m / base);
    }
    return bytes == 0;
}
