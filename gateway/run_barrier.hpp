// The exception barrier around the I/O loop. The gateway's own code reports errors through
// error_code; an exception can still come out of a library (an allocation that fails, a container
// refusing a size). One such exception must end the connection whose handler threw, never the
// process and every connection in it.
#pragma once

#include <boost/asio/io_context.hpp>

#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::gateway {

// A bounded label for an exception: length_error, bad_alloc, system_error, runtime_error,
// logic_error, other.
std::string_view exception_reason(const std::exception_ptr& e);
// Its what() text ("unknown exception" for a non-std exception).
std::string exception_text(const std::exception_ptr& e);

// Logs `handler_exception` (reason and text) and counts it in matomo_gateway_handler_exceptions_total.
void report_exception(metrics::Metrics& metrics, const std::exception_ptr& e);

// Runs `ioc` until it runs out of work or is stopped. When a handler throws, Asio destroys that
// handler (and with it the connection's last reference, so the connection closes) and rethrows out
// of run(); the barrier calls `on_exception` and runs the loop again.
void run_with_barrier(boost::asio::io_context& ioc, const std::function<void(const std::exception_ptr&)>& on_exception);

}  // namespace mgw::gateway
