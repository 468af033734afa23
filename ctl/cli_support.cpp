// cli_support.cpp: see cli.h.
#include "cli.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "bus_client.h"
#include "table.h"
#include "time_format.h"

namespace campaignd::ctl {

Context::Context() = default;
Context::~Context() = default;

BusClient& Context::client()
{
    if (!client_)
        client_ = std::make_unique<BusClient>(bus);
    return *client_;
}

void printJson(const nlohmann::json& document)
{
    std::cout << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void printText(const std::string& text)
{
    std::cout << text;
}

void printWarnings(const std::vector<std::string>& warnings)
{
    for (const auto& warning : warnings)
        std::cerr << "warning: " << sanitizeForTerminal(warning) << '\n';
}

std::string readTextFile(const std::string& path)
{
    std::string content;
    if (path == "-") {
        std::ostringstream buffer;
        buffer << std::cin.rdbuf();
        if (std::cin.bad())
            throw CommandFailure("cannot read standard input");
        content = buffer.str();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw CommandFailure("cannot read " + path + ": " + std::strerror(errno));
        content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad())
            throw CommandFailure("cannot read " + path + ": " + std::strerror(errno));
    }
    if (auto problem = textProblem(content))
        throw CommandFailure("cannot use " + (path == "-" ? std::string("standard input") : path) +
                             ": " + *problem);
    return content;
}

void checkArgumentText(const std::string& value, const std::string& what)
{
    if (auto problem = textProblem(value))
        throw UsageError("cannot use " + what + ": " + *problem);
}

std::uint64_t parseTimeArgument(const std::string& text)
{
    try {
        return parseTime(text);
    } catch (const InvalidTime& e) {
        throw UsageError(e.what());
    }
}

CLI::Validator statusValidator(const std::vector<std::string>& choices)
{
    std::string list;
    for (const auto& choice : choices)
        list += (list.empty() ? "" : "|") + choice;
    return CLI::Validator(
        [choices, list](std::string& value) -> std::string {
            std::string normalised = normalizeStatus(value);
            for (const auto& choice : choices) {
                if (choice == normalised) {
                    value = normalised;
                    return {};
                }
            }
            return "unknown status \"" + value + "\" (one of " + list + ")";
        },
        "{" + list + "}");
}

}  // namespace campaignd::ctl

namespace campaignd::ctl {

CLI::Validator unsignedNumber()
{
    return CLI::Validator(
        [](std::string& value) -> std::string {
            std::uint64_t parsed = 0;
            const char* end = value.data() + value.size();
            auto [ptr, ec] = std::from_chars(value.data(), end, parsed, 10);
            if (value.empty() || value.front() < '0' || value.front() > '9' || ec != std::errc() || ptr != end)
                return "\"" + value + "\" is not a number from 0 to 18446744073709551615";
            return {};
        },
        "");
}

}  // namespace campaignd::ctl
