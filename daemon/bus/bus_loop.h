// bus_loop.h: drives an sdbus-c++ connection from a Boost.Asio io_context, so that bus calls,
// signals, timers and (later) the delivery engine share one event loop and one thread.
// The connection's descriptor is watched for what sd-bus asks for (read, write, a timeout);
// on each wake-up every pending message is processed, then the watch is re-armed.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sdbus-c++/IConnection.h>

namespace campaignd::bus {

class BusLoop {
public:
    // `lost` is called once, on the io thread, if the connection breaks (the bus went away):
    // the loop has stopped by then and the daemon should exit.
    BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
            std::function<void(const std::string& why)> lost);
    ~BusLoop();
    BusLoop(const BusLoop&) = delete;
    BusLoop& operator=(const BusLoop&) = delete;

    // Processes what is pending and starts watching. Call once the objects are registered.
    void start();
    // Stops watching (pending handlers are cancelled); the connection stays open.
    void stop();
    // Re-checks what sd-bus waits for; call after sending outside a bus callback (e.g. a
    // signal emitted from a timer) so that queued messages are flushed.
    void kick();

private:
    void process();
    void arm();

    boost::asio::io_context& io_;
    sdbus::IConnection& connection_;
    std::function<void(const std::string&)> lost_;
    boost::asio::posix::stream_descriptor descriptor_;
    boost::asio::steady_timer timer_;
    bool readArmed_ = false;
    bool writeArmed_ = false;
    bool running_ = false;
};

}  // namespace campaignd::bus
