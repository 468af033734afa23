// daemon_validator.h: the daemon's own validation (rules::normalizeEmail and
// checkHeaderValue) behind the parser's Validator, as the host table hands it to the plugin.
// For the tests and the benchmark, which link campaignd-services; the plugin itself never
// includes this (it reaches the daemon's validation only through the host table).
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"
#include "recipient_import.h"
#include "rules/validation.h"

namespace campaignd::csv {

struct DaemonValidator final : Validator {
    bool normalizeEmail(std::string_view address, char* out, std::string& reason) override {
        try {
            const std::string n = rules::normalizeEmail(address);
            std::memcpy(out, n.c_str(), n.size() + 1);
            return true;
        } catch (const Error& e) {
            reason = e.what();
            return false;
        }
    }
    bool checkHeaderValue(const char* field, std::string_view value, std::string& reason) override {
        try {
            rules::checkHeaderValue(field, value);
            return true;
        } catch (const Error& e) {
            reason = e.what();
            return false;
        }
    }
};

}  // namespace campaignd::csv
