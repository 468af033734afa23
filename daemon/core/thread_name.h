// thread_name.h: names the calling thread as `top -H`, `ps -L`, gdb and perf show it
// ("cd-net", "cd-ledger-7"), so an administrator or a profile can tell the daemon's threads
// apart. Linux keeps 15 bytes; a longer name is cut.
#pragma once

#include <pthread.h>

#include <string>

namespace campaignd {

inline void nameThisThread(std::string name) {
    if (name.size() > 15) name.resize(15);
    pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace campaignd
