#include "tracking/request_view.hpp"

#include <algorithm>

namespace mgw::tracking {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        // Different bytes match only as the two cases of one ASCII letter.
        const unsigned lower = x | 0x20u;
        if (lower != (y | 0x20u) || lower < 'a' || lower > 'z') return false;
    }
    return true;
}

std::string_view RequestView::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

bool RequestView::has_header(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); });
}

std::string_view RequestView::query() const {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace mgw::tracking
