// check_config.h: campaignd --check-config. Everything start-up checks before it serves, and
// nothing that changes anything: the config files (every key of every section), every
// plugin's section and keys as the plugin reads them (password files' permissions included),
// the plugins chosen for each capability, and the database (reachable, a campaignd schema this
// binary understands; not migrated, no file created: storage/database_probe.h). No bus, no
// state directory, no connection to a mail server, unless --connect asks for one: then each
// transport is reached as a session would (ABI 1.5 probe), sending nothing. Each problem is one line on stderr
// ("bad configuration: FILE:LINE: ..."), as start-up would log it; a summary of what was checked
// goes to stdout when there is none.
#pragma once

#include "app/daemon.h"

namespace campaignd::app {

// 0 when start-up would get past every check, kExitConfig (78) otherwise.
int checkConfig(const Options& options);

}  // namespace campaignd::app
