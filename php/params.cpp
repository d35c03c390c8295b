#include "php/params.hpp"

#include <cstdio>
#include <cstring>

namespace mgw::php {

Params::Params(boost::json::object object) : sp_(object.storage()) {
    json_.emplace_back(std::move(object));
    adopt(json_.back());
}

Params::Params(std::initializer_list<std::pair<std::string_view, std::string_view>> list) {
    for (const auto& [name, value] : list) set(name, value);
}

void Params::adopt(boost::json::value& v) {
    // Moving a boost::json::value hands over its table, so the members stay where they are.
    for (const auto& kv : v.get_object()) {
        if (const auto* s = kv.value().if_string()) entries_.push_back(Param{kv.key(), std::string_view(*s)});
        else entries_.push_back(Param{kv.key(), {}, &kv.value()});
    }
}

const Param* Params::find(std::string_view name) const {
    // Most names differ in length or first byte from the one looked for: no call for those.
    if (name.empty()) {
        for (const auto& e : entries_)
            if (e.name.empty()) return &e;
        return nullptr;
    }
    for (const auto& e : entries_)
        if (e.name.size() == name.size() && e.name[0] == name[0] &&
            std::memcmp(e.name.data() + 1, name.data() + 1, name.size() - 1) == 0)
            return &e;
    return nullptr;
}

std::optional<std::string> Params::string(std::string_view name) const {
    const Param* p = find(name);
    if (p == nullptr) return std::nullopt;
    return value_string(*p);
}

std::optional<std::string_view> Params::text(std::string_view name) const {
    const Param* p = find(name);
    if (p == nullptr || !p->is_string()) return std::nullopt;
    return p->text;
}

Param* Params::entry(std::string_view name) {
    const Param* p = find(name);
    return p != nullptr ? &entries_[static_cast<std::size_t>(p - entries_.data())] : nullptr;
}

std::size_t Params::erase(std::string_view name) {
    const Param* p = find(name);
    if (p == nullptr) return 0;
    entries_.erase(entries_.begin() + (p - entries_.data()));
    return 1;
}

void Params::set(std::string_view name, std::string_view value) {
    if (Param* p = entry(name)) *p = Param{p->name, keep(value)};
    else entries_.push_back(Param{keep(name), keep(value)});
}

void Params::set_view(std::string_view name, std::string_view value) {
    if (Param* p = entry(name)) *p = Param{p->name, value};
    else entries_.push_back(Param{name, value});
}

void Params::union_with(Params&& other) {
    for (const auto& e : other.entries_)
        if (!contains(e.name)) entries_.push_back(e);
    // The views taken over point into what `other` owns: that moves here with them.
    for (auto& t : other.text_) text_.push_back(std::move(t));
    for (auto& j : other.json_) json_.push_back(std::move(j));
    other.entries_.clear();
}

char* Params::own_text(std::size_t n) {
    if (n == 0) return nullptr;
    if (sp_.is_deallocate_trivial()) return static_cast<char*>(sp_->allocate(n, 1));
    text_.emplace_back(new char[n]);  // NOLINT(modernize-make-unique): not zeroed
    return text_.back().get();
}

std::string_view Params::keep(std::string_view s) {
    char* p = own_text(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
}

std::optional<std::string> value_string(const Param& p) {
    if (p.is_string()) return std::string(p.text);
    return value_string(*p.json);
}

std::optional<std::string> value_string(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_bool()) return v.get_bool() ? std::string("1") : std::string();
    if (v.is_double()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v.get_double());
        return std::string(buf);
    }
    return std::nullopt;
}

}  // namespace mgw::php
