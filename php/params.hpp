// One hit's parameters as PHP holds them in $_GET + $_POST (or one bulk entry), in their order, as
// views (the same type holds a set's env.server and env.cookie): names and string values point into the request, or
// into text the hit owns when a value had to be decoded. Only what a plain name=value list cannot hold (a PHP array
// from `a[]=`, a bulk entry's numbers, booleans, objects) is a JSON value. No string is copied to build a hit.
#pragma once

#include <boost/container/small_vector.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgw::php {

struct Param {
    std::string_view name;
    std::string_view text;                     // the value, when it is a string
    const boost::json::value* json = nullptr;  // otherwise the value (an array, object, number, ...)
    bool is_string() const { return json == nullptr; }
};

class Params {
public:
    using Entries = boost::container::small_vector<Param, 24>;

    // Text the hit owns (decoded and replaced values) comes from `sp` when its memory is released all
    // at once (a per-request arena), else from the heap.
    Params() = default;
    explicit Params(boost::json::storage_ptr sp) : sp_(std::move(sp)) {}
    // The members of `object` in its order; the object is kept alive by the hit.
    explicit Params(boost::json::object object);
    // Names and string values copied from `list`, in its order (later duplicates replace earlier ones).
    Params(std::initializer_list<std::pair<std::string_view, std::string_view>> list);
    Params(Params&&) noexcept = default;
    Params& operator=(Params&&) noexcept = default;
    Params(const Params&) = delete;
    Params& operator=(const Params&) = delete;
    ~Params() = default;

    Entries::const_iterator begin() const { return entries_.begin(); }
    Entries::const_iterator end() const { return entries_.end(); }
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

    const boost::json::storage_ptr& storage() const { return sp_; }

    const Param* find(std::string_view name) const;
    bool contains(std::string_view name) const { return find(name) != nullptr; }
    // The parameter as the worker's getParam(..., 'string') sees it: strings as they are, numbers
    // and booleans in PHP's string form; nullopt for arrays, objects, null and absent names.
    std::optional<std::string> string(std::string_view name) const;
    // The string value without a copy; nullopt when absent or not a string.
    std::optional<std::string_view> text(std::string_view name) const;

    // PHP's unset(): removes `name`, keeping the order of the others; returns how many were removed.
    std::size_t erase(std::string_view name);
    // $hit[name] = value: replaces the value in place, or appends. Both are copied.
    void set(std::string_view name, std::string_view value);
    // The same with views the caller keeps alive as long as the hit (the request, or own_text()).
    void set_view(std::string_view name, std::string_view value);
    // Appends without looking for the name first: the caller knows it is not there.
    void append_view(std::string_view name, std::string_view value) { entries_.push_back(Param{name, value}); }
    // PHP's `$this + $other`: names of `other` absent here are appended in order.
    void union_with(Params&& other);

    // `n` bytes the hit owns, for text that values will view.
    char* own_text(std::size_t n);
    std::string_view keep(std::string_view s);

private:
    void adopt(boost::json::value& v);
    Param* entry(std::string_view name);

    Entries entries_;
    boost::json::storage_ptr sp_;
    std::vector<std::unique_ptr<char[]>> text_;  // owned text when sp_ is not an arena
    std::vector<boost::json::value> json_;       // objects whose members entries view (moved, never copied)
};

// A value as getParam(..., 'string') sees it (see Params::string).
std::optional<std::string> value_string(const Param& p);
std::optional<std::string> value_string(const boost::json::value& v);

}  // namespace mgw::php
