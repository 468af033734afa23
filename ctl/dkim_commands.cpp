// dkim_commands.cpp: "dkim keygen": a new DKIM key pair for a From domain, made here (no daemon
// needed): the private key written with mode 0600 to a file that must not exist yet (never
// overwritten, never printed), then the [DKIM DOMAIN] section to add to the daemon's config and
// the TXT record to publish at SELECTOR._domainkey.DOMAIN. The key is made and checked by the
// daemon's own code (mail/dkim.h), so the daemon accepts what this writes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli.h"
#include "core/error.h"
#include "mail/dkim.h"

namespace campaignd::ctl {
namespace {

struct KeygenOptions {
    std::string domain;
    std::string selector;
    std::string algorithm = "rsa-sha256";
    unsigned bits = 2048;
    std::string output;
};

// Writes `text` to a new file `path`, mode 0600 from its creation on.
void writePrivateFile(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        throw CommandFailure("cannot create " + path + ": " + std::strerror(errno) +
                             (errno == EEXIST ? " (a key is never overwritten; choose another --output)" : ""));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            ::unlink(path.c_str());
            throw CommandFailure("cannot write " + path + ": " + std::strerror(error));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) throw CommandFailure("cannot write " + path + ": " + std::strerror(errno));
}

// The record as a zone file's TXT data: quoted strings of at most 255 octets each (RFC 1035),
// which resolvers join; an rsa-2048 record is longer than one.
std::string zoneStrings(const std::string& record) {
    std::string out;
    for (const auto& part : mail::txtStrings(record)) out += (out.empty() ? "\"" : " \"") + part + "\"";
    return out;
}

void runKeygen(Context& context, const KeygenOptions& options) {
    const auto algorithm = mail::parseDkimAlgorithm(options.algorithm);
    if (!algorithm) throw UsageError("--algorithm must be rsa-sha256 or ed25519-sha256");
    mail::DkimKey key;
    try {
        key = mail::generateDkimKey(options.domain, options.selector, *algorithm, options.bits);
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
    const std::string path =
        options.output.empty() ? key.domain + "." + key.selector + ".key" : options.output;
    writePrivateFile(path, key.privateKey);
    const std::string name = key.selector + "._domainkey." + key.domain;
    const std::string record = mail::dkimTxtRecord(key);
    if (context.json) {
        printJson({{"domain", key.domain},
                   {"selector", key.selector},
                   {"algorithm", std::string(mail::toString(key.algorithm))},
                   {"bits", key.bits},
                   {"key_file", path},
                   {"dns_name", name},
                   {"txt_record", record}});
        return;
    }
    printText("Wrote the private key to " + path + " (mode 0600; keep it there or move it, still unreadable by others).\n\n"
              "Add to the daemon's config (give KeyFile= the absolute path) and restart it:\n\n"
              "[DKIM " + key.domain + (key.algorithm == mail::DkimAlgorithm::Ed25519Sha256 ? " ed25519" : "") + "]\n"
              "Selector=" + key.selector + "\nKeyFile=" + path + "\nAlgorithm=" +
              std::string(mail::toString(key.algorithm)) + "\n\nPublish in DNS:\n\n" + name + ". IN TXT " + zoneStrings(record) + "\n");
}

}  // namespace

void registerDkimCommands(CLI::App& app, Context& context) {
    auto* dkim = app.add_subcommand("dkim", "DKIM keys for the daemon's [DKIM DOMAIN] sections");
    dkim->require_subcommand(1);
    auto options = std::make_shared<KeygenOptions>();
    auto* command = addCommand(dkim, context, options, "keygen",
                               "Make a new key pair: the private key in a new 0600 file, the TXT record to publish",
                               runKeygen);
    command->add_option("--domain", options->domain, "The From domain it signs for")->required();
    command->add_option("--selector", options->selector, "The selector (the DNS label before ._domainkey)")->required();
    command->add_option("--algorithm", options->algorithm, "rsa-sha256 (default) or ed25519-sha256");
    command->add_option("--bits", options->bits, "RSA key size, 2048 (default) to 4096");
    command->add_option("--output", options->output, "The key file to create (default: DOMAIN.SELECTOR.key here)");
    command->footer("Needs no daemon. The file is created, never overwritten; the key is never printed.\n\n"
                    "Example:\n  campaignd-ctl dkim keygen --domain example.org --selector mail2026 "
                    "--output /etc/campaignd/dkim/example.org.key");
}

}  // namespace campaignd::ctl
