// dkim_keys.h: the daemon's DKIM keys, read once at start-up from the [DKIM DOMAIN] sections
// (config.h: DkimKeyConfig): each KeyFile= or KeyCredential= ($CREDENTIALS_DIRECTORY/NAME) read,
// refused when others can read it, parsed and checked (mail::parseDkimKey), and the keys of one
// domain given to one signer. A key that cannot be loaded is a config error naming the file and
// line of the key that names it; the key's bytes never appear in a message.
#pragma once

#include "config/config.h"
#include "mail/dkim.h"

namespace campaignd::app {

// Throws config::ConfigError("FILE:LINE: [DKIM DOMAIN] KeyFile=: what is wrong").
mail::DkimKeyring loadDkimKeys(const config::Config& config);

}  // namespace campaignd::app
