// Queue choice, reproducing QueuedTracking's Queue\Manager and Matomo's Request::getVisitorId.
#include "queue/queue_choice.hpp"

#include "php/php.hpp"

#include <openssl/evp.h>
#include <boost/beast/core/detail/base64.hpp>

#include <array>
#include <charconv>
#include <cstdio>

namespace mgw::queue {
namespace {

std::string digest_hex(const EVP_MD* md, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string s(std::size_t{len} * 2, '0');
    for (std::size_t i = 0; i < len; ++i) {
        s[2 * i] = hex[out[i] >> 4];
        s[2 * i + 1] = hex[out[i] & 0xF];
    }
    return s;
}

// PHP pack("H*", s) followed by bin2hex, for the 16 characters of a visitor id: lower-cases hex
// digits, any other character becomes 0 (PHP warns "illegal hex digit" and uses 0).
using Key = std::array<char, 16>;
Key pack_hex(std::string_view s) {
    Key out;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const char c = s[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) out[i] = c;
        else if (c >= 'A' && c <= 'F') out[i] = static_cast<char>(c - 'A' + 'a');
        else out[i] = '0';
    }
    return out;
}

// A parameter's value as matomo_sanitize would leave it, without a copy when it is a string that
// sanitising keeps as it is (ids are); `own` holds the value otherwise. nullopt: absent, or not a
// string, number or boolean.
std::optional<std::string_view> sanitized_param(const php::Params& hit, std::string_view name, std::string& own) {
    const php::Param* p = hit.find(name);
    if (p == nullptr) return std::nullopt;
    if (p->is_string() && php::sanitize_keeps(p->text)) return p->text;
    auto v = php::value_string(*p);
    if (!v) return std::nullopt;
    own = php::matomo_sanitize(*v);
    return std::string_view(own);
}

// PHP truthiness of a string (uid check): "" and "0" are false.
bool php_truthy(std::string_view s) { return !php::php_empty(s); }

}  // namespace

std::string md5_hex(std::string_view data) { return digest_hex(EVP_md5(), data); }

std::string third_party_cookie_id(std::string_view value) {
    auto eq = value.find('=');
    if (eq == std::string_view::npos) return {};
    std::string_view payload = value.substr(eq + 1);
    bool digits = !payload.empty();
    for (char c : payload) digits = digits && c >= '0' && c <= '9';
    if (digits) return payload.size() == 16 ? std::string(payload) : std::string{};
    namespace b64 = boost::beast::detail::base64;
    std::string decoded(b64::decoded_size(payload.size()), '\0');
    decoded.resize(b64::decode(decoded.data(), payload.data(), payload.size()).first);
    return decoded.size() == 16 ? decoded : std::string{};
}
std::string sha1_hex(std::string_view data) { return digest_hex(EVP_sha1(), data); }

namespace {

// visitor_key, as its 16 characters.
std::optional<Key> visitor_key16(const php::Params& hit, std::string_view third_party_cookie_value,
                                 const QueueChoiceOptions& opts) {
    std::string own;
    if (opts.userid_overwrites_visitorid) {
        if (auto uid = sanitized_param(hit, "uid", own)) {
            if (php_truthy(*uid)) return pack_hex(sha1_hex(*uid));
        }
    }
    if (auto cid = sanitized_param(hit, "cid", own)) {
        if (!php::php_empty(*cid)) {
            // A cid of the wrong length throws at the edge; the plugin then treats the visitor id
            // as unknown and falls back to the IP without looking at _id (docs/wire-format.md, "Queue choice").
            if (cid->size() != 16) return std::nullopt;
            return pack_hex(*cid);
        }
    }
    if (!opts.force_cookieless) {
        if (opts.third_party_cookie && !third_party_cookie_value.empty()) {
            std::string id = third_party_cookie_id(third_party_cookie_value);
            if (!id.empty()) return pack_hex(id);
        }
        if (auto id = sanitized_param(hit, "_id", own)) {
            if (id->size() >= 16) return pack_hex(*id);
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> visitor_key(const php::Params& hit, std::string_view third_party_cookie_value,
                                       const QueueChoiceOptions& opts) {
    const auto key = visitor_key16(hit, third_party_cookie_value, opts);
    if (!key) return std::nullopt;
    return std::string(key->data(), key->size());
}

unsigned queue_from_key(std::string_view key_str, unsigned queues) {
    if (queues <= 1) return 0;
    std::string p;
    for (std::size_t i = 0; i < 3 && i < key_str.size(); ++i) {
        char c = key_str[i];
        p.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    bool hex = !p.empty();
    unsigned n = 0;
    for (char c : p) {
        if (c >= '0' && c <= '9') n = n * 16 + static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f') n = n * 16 + static_cast<unsigned>(c - 'a' + 10);
        else hex = false;
    }
    if (!hex) {
        // Unreachable through Matomo's request code, kept for completeness (docs/wire-format.md).
        n = 0;
        unsigned prev = 0;
        for (std::size_t i = 0; i < 3; ++i) {
            unsigned o = i < p.size() ? static_cast<unsigned char>(p[i]) : prev;
            n += o;
            prev = o;
        }
    }
    return n % queues;
}

std::optional<unsigned> choose_queue(const php::Params& hit, std::string_view remote_addr,
                                     std::string_view third_party_cookie_value, bool has_token,
                                     const QueueChoiceOptions& opts) {
    if (const auto key = visitor_key16(hit, third_party_cookie_value, opts))
        return queue_from_key(std::string_view(key->data(), key->size()), opts.queues);
    auto cip = hit.string("cip");
    if (cip && !php::php_empty(*cip)) {
        // Stock authenticates cip at the edge when it needs the IP for the queue; without any
        // token that fails with 400 and nothing of the request is queued (docs/wire-format.md: "Queue choice").
        if (!has_token) return std::nullopt;
        return opts.queues <= 1 ? 0 : queue_from_key(md5_hex(*cip), opts.queues);
    }
    return opts.queues <= 1 ? 0 : queue_from_key(md5_hex(remote_addr), opts.queues);
}

std::string queue_key(unsigned queue_id) {
    std::string key;
    queue_key_into(queue_id, key);
    return key;
}

void queue_key_into(unsigned queue_id, std::string& out) {
    out.assign("trackingQueueV1");
    if (queue_id == 0) return;
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits, queue_id).ptr;
    out += '_';
    out.append(digits, end);
}

}  // namespace mgw::queue
