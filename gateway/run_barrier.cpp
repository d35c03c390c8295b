#include "gateway/run_barrier.hpp"

#include "gateway/access_log.hpp"
#include "metrics/metrics.hpp"

#include <new>
#include <stdexcept>
#include <system_error>

namespace mgw::gateway {

std::string_view exception_reason(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::length_error&) { return "length_error"; } catch (const std::bad_alloc&) {
        return "bad_alloc";
    } catch (const std::system_error&) { return "system_error"; } catch (const std::runtime_error&) {
        return "runtime_error";
    } catch (const std::logic_error&) { return "logic_error"; } catch (...) {
        return "other";
    }
}

std::string exception_text(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) { return ex.what(); } catch (...) {
        return "unknown exception";
    }
}

void report_exception(metrics::Metrics& metrics, const std::exception_ptr& e) {
    const auto reason = exception_reason(e);
    metrics.handler_exception(reason);
    std::string fields = "\"reason\":";
    append_json_string(fields, reason);
    fields += ",\"detail\":";
    append_json_string(fields, exception_text(e));
    log_event("error", "handler_exception", fields);
}

void run_with_barrier(boost::asio::io_context& ioc,
                      const std::function<void(const std::exception_ptr&)>& on_exception) {
    for (;;) {
        try {
            ioc.run();
            return;
        } catch (...) {
            // run() left by an exception does not stop the io_context: calling it again goes on
            // with the remaining handlers.
            on_exception(std::current_exception());
        }
    }
}

}  // namespace mgw::gateway
