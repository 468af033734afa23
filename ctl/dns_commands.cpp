// dns_commands.cpp: "dns records" (what to publish: the records the daemon builds from its
// configuration and keys, Manager.DnsRecords, printed as zone-file lines with the reasons as
// comments) and "dns check" (those records looked up, here, with the C library's resolver, and
// judged line by line; exit status 1 when anything is missing or wrong). Both read only.
#include <optional>

#include "bus_client.h"
#include "cli.h"
#include "dns_check.h"
#include "dns_lookup.h"
#include "variant_json.h"

namespace campaignd::ctl {
namespace {

struct DnsOptions {
    std::string domain;
    std::string server;
};

std::vector<Dict> fetchRecords(Context& context, const std::string& domain) {
    checkArgumentText(domain, "DOMAIN");
    return context.client().manager().DnsRecords(domain);
}

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

void runRecords(Context& context, const DnsOptions& options) {
    const auto records = fetchRecords(context, options.domain);
    if (context.json) {
        printJson({{"records", dictListToJson(records)}});
        return;
    }
    std::string out;
    std::string domain;
    for (const auto& r : records) {
        if (dictString(r, "domain") != domain) {
            domain = dictString(r, "domain");
            out += (out.empty() ? "" : "\n") + std::string("; The records mail from ") + domain +
                   " needs (envelope domain " + dictString(r, "envelope_domain") + "), for its zone:\n";
        }
        out += "\n; " + dictString(r, "comment") + "\n";
        out += dictString(r, "name") + ". IN " + dictString(r, "type") + " ";
        if (dictString(r, "type") == "TXT") {
            const auto strings = dictStrings(r, "strings");
            for (std::size_t i = 0; i < strings.size(); ++i) out += (i ? " " : "") + quoted(strings[i]);
        } else {
            out += dictString(r, "value");
        }
        out += "\n";
    }
    printText(out);
}

void runCheck(Context& context, const DnsOptions& options) {
    std::optional<DnsResolver> resolver;
    try {
        resolver.emplace(options.server.empty() ? std::nullopt : std::optional<std::string>(options.server));
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    std::vector<ExpectedDnsRecord> expected;
    for (const auto& r : fetchRecords(context, options.domain))
        expected.push_back({dictString(r, "domain"), dictString(r, "purpose"), dictString(r, "name"),
                            dictString(r, "type"), dictString(r, "value"), dictString(r, "selector"),
                            dictString(r, "algorithm"), dictString(r, "public_key"), dictStrings(r, "relays"),
                            dictString(r, "envelope_domain")});
    const auto findings = checkDnsRecords(
        expected, [&](const std::string& name, DnsType type) { return resolver->lookup(name, type); });
    std::size_t bad = 0;
    for (const auto& f : findings) bad += f.ok() ? 0 : 1;
    if (context.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& f : findings)
            list.push_back({{"domain", f.domain}, {"check", f.check}, {"name", f.name}, {"status", f.status},
                            {"message", f.message}});
        printJson({{"ok", bad == 0}, {"checks", list}});
    } else {
        std::string out;
        std::string domain;
        for (const auto& f : findings) {
            if (f.domain != domain) {
                domain = f.domain;
                out += (out.empty() ? "" : "\n") + domain + ":\n";
            }
            std::string status = f.status;
            status.resize(8, ' ');
            out += "  " + status + f.message + "\n";
        }
        printText(out);
    }
    if (bad > 0)
        throw CommandFailure(std::to_string(bad) + " of " + std::to_string(findings.size()) +
                             " checks found a record missing or wrong");
}

}  // namespace

void registerDnsCommands(CLI::App& app, Context& context) {
    auto* dns = app.add_subcommand("dns", "The DNS records the configuration needs: print them, check them");
    dns->require_subcommand(1);
    auto options = std::make_shared<DnsOptions>();
    auto* records = addCommand(dns, context, options, "records",
                               "Print the DKIM, SPF, DMARC and MX records to publish, as zone-file lines", runRecords);
    records->add_option("DOMAIN", options->domain, "A From domain (default: every [DKIM DOMAIN] domain)");
    records->footer("The daemon builds them from its configuration and its keys (only the public halves).\n\n"
                    "Example:\n  campaignd-ctl dns records example.org >> /etc/bind/db.example.org");
    auto* check = addCommand(dns, context, options, "check",
                             "Look the records up and say, line by line, what is missing or wrong", runCheck);
    check->add_option("DOMAIN", options->domain, "A From domain (default: every [DKIM DOMAIN] domain)");
    check->add_option("--server", options->server, "Ask only this DNS server, ADDR[:PORT] (IPv4), not the system's");
    check->footer("Exit status 1 when a record is missing or wrong (or cannot be looked up).\n\n"
                  "Example:\n  campaignd-ctl dns check example.org --server 192.0.2.53");
}

}  // namespace campaignd::ctl
