// bus_loop.cpp: see bus_loop.h.
#include "bus/bus_loop.h"

#include <poll.h>

#include <boost/asio/post.hpp>
#include <chrono>


namespace campaignd::bus {

BusLoop::BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
                 std::function<void(const std::string&)> lost)
    : io_(io), connection_(connection), lost_(std::move(lost)), descriptor_(io), timer_(io) {}

BusLoop::~BusLoop() {
    stop();
    // The descriptor belongs to sd-bus: give it back instead of closing it.
    if (descriptor_.is_open()) descriptor_.release();
}

void BusLoop::start() {
    running_ = true;
    descriptor_.assign(connection_.getEventLoopPollData().fd);
    process();
}

void BusLoop::stop() {
    running_ = false;
    boost::system::error_code ec;
    if (descriptor_.is_open()) descriptor_.cancel(ec);
    timer_.cancel();
}

void BusLoop::kick() {
    if (running_) boost::asio::post(io_, [this] { process(); });
}

void BusLoop::process() {
    if (!running_) return;
    try {
        while (connection_.processPendingRequest()) {
        }
        arm();
    } catch (const std::exception& e) {
        // sd-bus reports a broken connection (the bus daemon stopped or restarted) this way;
        // nothing on it can be served any more.
        stop();
        if (lost_) lost_(e.what());
    }
}

void BusLoop::arm() {
    if (!running_) return;
    const auto poll = connection_.getEventLoopPollData();
    if ((poll.events & POLLIN) && !readArmed_) {
        readArmed_ = true;
        descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                               [this](const boost::system::error_code& ec) {
                                   readArmed_ = false;
                                   if (!ec) process();
                               });
    }
    if ((poll.events & POLLOUT) && !writeArmed_) {
        writeArmed_ = true;
        descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_write,
                               [this](const boost::system::error_code& ec) {
                                   writeArmed_ = false;
                                   if (!ec) process();
                               });
    }
    if (const auto wait = poll.getRelativeTimeout()) {
        timer_.expires_after(*wait);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) process();
        });
    }
}

}  // namespace campaignd::bus
