/*
 * wantu.hpp: a header-only C++17 wrapper over libwantu's C API (wantu.h).
 *
 *     #include <wantu.hpp>
 *     wantu::Client client("ak", "sk", nullptr, "http://127.0.0.1:8080", "http://127.0.0.1:8080");
 *     wantu::Result r = client.upload_content(R"({"namespace":"demo","expiration":-1})",
 *                                             "/test", "hello.txt", std::string_view("hello"));
 *     if (r.ok()) std::cout << r.get("url") << "\n"; else std::cerr << r.message() << "\n";
 *
 * Error handling is expected-style, like the C API and the service's Python
 * SDK: every operation returns a `wantu::Result` (the result JSON as a
 * std::string, plus its `code`, `error` and `message`), and a failed upload
 * is a Result whose ok() is false, not an exception. Only these throw:
 *   - the Client constructors throw `wantu::Error` when the keys, type or
 *     endpoints are unusable (there is no client to answer with);
 *   - `Result::value()` throws `wantu::Error` when the Result is an error, for
 *     callers who prefer exceptions: `client.upload_file(...).value()`;
 *   - an exception thrown by your own progress callback (or stream) stops the
 *     upload and is rethrown once the call has returned (it never crosses C);
 *   - std::bad_alloc, as any std::string may.
 *
 * Calls: the six of the service's Python SDK (upload_file, upload_content,
 * multipart_*), the one-call uploads of any size (transfer_file, transfer_content,
 * transfer_stream; progress, `wantu::Cancel`, options JSON), the file and
 * folder management calls, and `call()` for any other C function.
 *
 * Resources: `wantu::Client` owns its handle and is move-only (no copies);
 * every C string is freed as soon as it has been copied into a Result, so
 * nothing leaks, whatever path is taken. A Client is thread-safe: its const
 * methods may be called from any number of threads at once. A moved-from
 * Client holds no handle; calling it answers an InvalidArgument Result.
 *
 * Optional string arguments (`wantu::Arg`) accept a string literal, a
 * std::string, a std::string_view, or nullptr / std::nullopt for "absent"
 * (NULL in C). A string holding a NUL character cannot be passed to C and
 * answers an InvalidArgument Result instead of being cut short.
 */
#ifndef WANTU_HPP
#define WANTU_HPP

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <istream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "wantu.h"

namespace wantu {

/** Frees a string returned by libwantu. */
struct StringDeleter {
    void operator()(char *s) const noexcept { wantu_string_free(s); }
};

/** An owned string from libwantu, freed when it goes out of scope. */
using CString = std::unique_ptr<char, StringDeleter>;

namespace detail {

inline std::size_t skip_ws(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}

/* Index just past the JSON string starting at s[i] == '"', or npos. */
inline std::size_t skip_string(std::string_view s, std::size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return std::string_view::npos;
}

/* Index just past the JSON value starting at s[i], or npos. */
inline std::size_t skip_value(std::string_view s, std::size_t i) {
    if (i >= s.size()) return std::string_view::npos;
    if (s[i] == '"') return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i);
                if (i == std::string_view::npos) return i;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            ++i;
        }
        return std::string_view::npos;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
        ++i;
    return i;
}

/* The raw JSON text of a top-level member of an object (nested objects are
 * not searched, so a "code" inside "meta" is never mistaken for ours). */
inline std::string_view member(std::string_view json, std::string_view key) {
    std::size_t i = skip_ws(json, 0);
    if (i >= json.size() || json[i] != '{') return {};
    i = skip_ws(json, i + 1);
    while (i < json.size() && json[i] == '"') {
        std::size_t key_end = skip_string(json, i);
        if (key_end == std::string_view::npos) return {};
        std::string_view name = json.substr(i + 1, key_end - i - 2);
        i = skip_ws(json, key_end);
        if (i >= json.size() || json[i] != ':') return {};
        i = skip_ws(json, i + 1);
        std::size_t end = skip_value(json, i);
        if (end == std::string_view::npos) return {};
        if (name == key) return json.substr(i, end - i);
        i = skip_ws(json, end);
        if (i < json.size() && json[i] == ',') i = skip_ws(json, i + 1);
    }
    return {};
}

inline void append_utf8(std::string &out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

inline unsigned long hex4(std::string_view s, std::size_t i) {
    if (i + 4 > s.size()) return 0xFFFD;
    std::string digits(s.substr(i, 4));
    char *end = nullptr;
    unsigned long v = std::strtoul(digits.c_str(), &end, 16);
    return end == digits.c_str() + 4 ? v : 0xFFFD;
}

/* Decodes a raw JSON string token ("...") into UTF-8; "" for anything else. */
inline std::string unquote(std::string_view raw) {
    std::string out;
    if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return out;
    raw = raw.substr(1, raw.size() - 2);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c != '\\' || i + 1 >= raw.size()) {
            out += c;
            continue;
        }
        char e = raw[++i];
        switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
            unsigned long cp = hex4(raw, i + 1);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < raw.size() && raw[i + 1] == '\\' &&
                raw[i + 2] == 'u') {
                unsigned long lo = hex4(raw, i + 3);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            append_utf8(out, cp);
            break;
        }
        default: out += e; break; /* \" \\ \/ */
        }
    }
    return out;
}

/* A JSON string literal for text we build ourselves. */
inline std::string quote(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

} // namespace detail

/** One result document: the JSON text and quick access to its fields. */
class Result {
public:
    Result() = default;
    explicit Result(std::string json) : json_(std::move(json)) {
        std::string code(detail::member(json_, "code"));
        code_ = code.empty() ? 0 : std::atoi(code.c_str());
    }

    /** Takes ownership of a string returned by a libwantu call and frees it. */
    static Result take(char *owned) {
        CString guard(owned);
        if (!owned) return local_error("Internal", "libwantu answered NULL");
        return Result(std::string(owned));
    }

    /** A client-side error built without calling the library (code 0). */
    static Result local_error(std::string_view error, std::string_view message) {
        return Result("{\"code\":0,\"error\":" + detail::quote(error) +
                      ",\"message\":" + detail::quote(message) + ",\"request_id\":\"\"}");
    }

    /** 200 on success; the HTTP status of a server error; 0 client-side. */
    int code() const noexcept { return code_; }
    bool ok() const noexcept { return code_ == 200; }
    explicit operator bool() const noexcept { return ok(); }

    /** The whole result JSON. */
    const std::string &json() const noexcept { return json_; }

    /** A top-level string field ("url", "e_tag", "id", "upload_id", ...),
     *  decoded; "" when it is absent or not a string. */
    std::string get(std::string_view key) const { return detail::unquote(detail::member(json_, key)); }

    /** The raw JSON text of a top-level field ("" when absent), for numbers,
     *  booleans, objects and arrays: raw("file_modified"), raw("result"). */
    std::string raw(std::string_view key) const { return std::string(detail::member(json_, key)); }

    /** The stable error name ("InvalidToken", "ConnectError"...); "" on success. */
    std::string error() const { return get("error"); }
    std::string message() const { return get("message"); }
    std::string request_id() const { return get("request_id"); }

    /** This Result when ok(); otherwise throws wantu::Error. */
    inline const Result &value() const &;
    inline Result &&value() &&;

private:
    std::string json_;
    int code_ = 0;
};

/** Thrown by the Client constructors and by Result::value(). */
class Error : public std::runtime_error {
public:
    explicit Error(Result result)
        : std::runtime_error(describe(result)), result_(std::move(result)) {}
    const Result &result() const noexcept { return result_; }
    int code() const noexcept { return result_.code(); }

private:
    static std::string describe(const Result &r) {
        std::string name = r.error();
        return (name.empty() ? std::string("Error") : name) + " (" + std::to_string(r.code()) +
               "): " + r.message();
    }
    Result result_;
};

inline const Result &Result::value() const & {
    if (!ok()) throw Error(*this);
    return *this;
}

inline Result &&Result::value() && {
    if (!ok()) throw Error(*this);
    return std::move(*this);
}

/** An optional string argument: text, or absent (NULL in C). */
class Arg {
public:
    Arg() noexcept = default;
    Arg(std::nullptr_t) noexcept {}
    Arg(std::nullopt_t) noexcept {}
    Arg(const char *s) : set_(s != nullptr), text_(s ? s : "") {}
    Arg(std::string s) : set_(true), text_(std::move(s)) {}
    Arg(std::string_view s) : set_(true), text_(s) {}
    template <class T>
    Arg(const std::optional<T> &o) : set_(o.has_value()), text_(o ? std::string(*o) : std::string()) {}

    const char *c_str() const noexcept { return set_ ? text_.c_str() : nullptr; }
    bool has_nul() const noexcept { return set_ && text_.find('\0') != std::string::npos; }

private:
    bool set_ = false;
    std::string text_;
};

/** The library's version string, e.g. "0.1.0". */
inline std::string_view version() noexcept { return wantu_version(); }

/** Whether the loaded library is the version this header was generated for. */
inline bool header_matches_library() noexcept { return version() == WANTU_VERSION_STRING; }

/** A cancel handle for the one-call uploads: trigger() from any thread
 *  cancels every upload given this handle; it stays triggered. Move-only. */
class Cancel {
public:
    Cancel() : handle_(wantu_cancel_new()) {
        if (!handle_) throw std::bad_alloc();
    }
    void trigger() const noexcept { wantu_cancel_trigger(handle_.get()); }
    bool triggered() const noexcept { return wantu_cancel_is_triggered(handle_.get()) == 1; }
    const wantu_cancel *handle() const noexcept { return handle_.get(); }

private:
    struct Deleter {
        void operator()(wantu_cancel *c) const noexcept { wantu_cancel_free(c); }
    };
    std::unique_ptr<wantu_cancel, Deleter> handle_;
};

/** Progress of a one-call upload: `sent` bytes of `total` (std::nullopt
 *  while a stream's length is unknown). Return true to cancel the upload. */
using Progress = std::function<bool(std::uint64_t sent, std::optional<std::uint64_t> total)>;

/** The optional arguments of the one-call uploads (all may stay empty). */
struct TransferArgs {
    Arg meta_json;    /**< JSON object of user metadata, or absent. */
    Arg var_json;     /**< JSON object of custom variables, or absent. */
    Arg options_json; /**< {"part_size":..,"concurrency":..,"integrity":..,
                           "max_attempts":..,"checkpoint_path":..} (wantu.h). */
    Progress progress;             /**< Called on the uploading thread. */
    const Cancel *cancel = nullptr; /**< Must outlive the call. */
};

namespace detail {

/* Carries C++ callbacks through the C API's user_data. An exception thrown
 * by the progress callback or the stream must not cross C: it is caught,
 * the upload is stopped, and it is rethrown once the C call has returned. */
struct Callbacks {
    const Progress *progress = nullptr;
    std::istream *stream = nullptr;
    std::exception_ptr error;

    static int on_progress(std::uint64_t sent, std::uint64_t total, void *data) noexcept {
        auto *self = static_cast<Callbacks *>(data);
        try {
            std::optional<std::uint64_t> t;
            if (total != WANTU_SIZE_UNKNOWN) t = total;
            return (*self->progress)(sent, t) ? 1 : 0;
        } catch (...) {
            if (!self->error) self->error = std::current_exception();
            return 1;
        }
    }

    static std::ptrdiff_t on_read(std::uint8_t *buf, std::size_t cap, void *data) noexcept {
        auto *self = static_cast<Callbacks *>(data);
        try {
            self->stream->read(reinterpret_cast<char *>(buf), static_cast<std::streamsize>(cap));
            if (self->stream->bad()) return -1;
            return static_cast<std::ptrdiff_t>(self->stream->gcount());
        } catch (...) {
            if (!self->error) self->error = std::current_exception();
            return -1;
        }
    }

    Result finish(Result r) const {
        if (error) std::rethrow_exception(error);
        return r;
    }
};

} // namespace detail

/** A libwantu client: keys, endpoints, a connection pool and I/O threads. */
class Client {
public:
    /** The Python SDK's constructor: type nullptr means "TOP"; endpoints nullptr
     *  mean the service's defaults. Throws wantu::Error when unusable. */
    Client(const Arg &ak, const Arg &sk, const Arg &type = {}, const Arg &upload_endpoint = {},
           const Arg &manage_endpoint = {})
        : Client(ak, sk, type, upload_endpoint, manage_endpoint, Arg()) {}

    /** With client options as a JSON object (see wantu_client_new_with_options):
     *  {"connect_timeout_ms":..,"request_timeout_ms":..,"read_timeout_ms":..,
     *   "ca_file":..,"proxy":..,"user_agent":..}. Throws wantu::Error. */
    static Client with_options(const Arg &ak, const Arg &sk, const Arg &type,
                               const Arg &upload_endpoint, const Arg &manage_endpoint,
                               const Arg &options_json) {
        return Client(ak, sk, type, upload_endpoint, manage_endpoint, options_json);
    }

    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() = default;

    /** The C handle, for calls this header does not wrap (see call()). */
    wantu_client *handle() const noexcept { return handle_.get(); }

    /** Runs any C call that answers an owned JSON string and wraps it:
     *  client.call([&](wantu_client *c) { return wantu_some_call(c, ...); }). */
    template <class F> Result call(F &&f) const { return Result::take(f(handle_.get())); }

    // -- the calls of the service's Python SDK ------------------------------

    /** {"code":200,"token":"UPLOAD_AK_TOP ..."} for a policy JSON. */
    Result upload_token(const Arg &policy_json) const {
        return guarded({{"policy_json", &policy_json}},
                       [&] { return wantu_upload_token(handle(), policy_json.c_str()); });
    }

    /** Uploads a local file, streamed from disk, in one request. */
    Result upload_file(const Arg &policy_json, const Arg &dir, const Arg &name, const Arg &file_path,
                       const Arg &md5 = {}, const Arg &meta_json = {}, const Arg &var_json = {}) const {
        return guarded({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name},
                        {"file_path", &file_path}, {"md5", &md5}, {"meta_json", &meta_json},
                        {"var_json", &var_json}},
                       [&] {
                           return wantu_upload_file(handle(), policy_json.c_str(), dir.c_str(),
                                                    name.c_str(), file_path.c_str(), md5.c_str(),
                                                    meta_json.c_str(), var_json.c_str());
                       });
    }

    /** Uploads bytes from memory in one request. */
    Result upload_content(const Arg &policy_json, const Arg &dir, const Arg &name,
                          std::string_view content, const Arg &md5 = {}, const Arg &meta_json = {},
                          const Arg &var_json = {}) const {
        return guarded({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name}, {"md5", &md5},
                        {"meta_json", &meta_json}, {"var_json", &var_json}},
                       [&] {
                           return wantu_upload_content(handle(), policy_json.c_str(), dir.c_str(),
                                                       name.c_str(), bytes(content), content.size(),
                                                       md5.c_str(), meta_json.c_str(), var_json.c_str());
                       });
    }

    /** Non-blocking upload_file: the answer arrives in the future (see
     *  docs/async.md; the arguments are copied before this returns). */
    std::future<Result> upload_file_async(const Arg &policy_json, const Arg &dir, const Arg &name,
                                          const Arg &file_path, const Arg &md5 = {},
                                          const Arg &meta_json = {}, const Arg &var_json = {}) const {
        return later({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name},
                      {"file_path", &file_path}, {"md5", &md5}, {"meta_json", &meta_json},
                      {"var_json", &var_json}},
                     [&](const wantu_async *how) {
                         return wantu_upload_file_async(handle(), policy_json.c_str(), dir.c_str(),
                                                        name.c_str(), file_path.c_str(), md5.c_str(),
                                                        meta_json.c_str(), var_json.c_str(), how);
                     });
    }

    /** Non-blocking upload_content; `content` is copied before this returns. */
    std::future<Result> upload_content_async(const Arg &policy_json, const Arg &dir, const Arg &name,
                                             std::string_view content, const Arg &md5 = {},
                                             const Arg &meta_json = {},
                                             const Arg &var_json = {}) const {
        return later({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name}, {"md5", &md5},
                      {"meta_json", &meta_json}, {"var_json", &var_json}},
                     [&](const wantu_async *how) {
                         return wantu_upload_content_async(
                             handle(), policy_json.c_str(), dir.c_str(), name.c_str(), bytes(content),
                             content.size(), md5.c_str(), meta_json.c_str(), var_json.c_str(), how);
                     });
    }

    /** Starts a multipart upload with part 1; answers id, upload_id, e_tag. */
    Result multipart_init(const Arg &policy_json, const Arg &dir, const Arg &name,
                          std::string_view content, const Arg &md5 = {}, const Arg &meta_json = {},
                          const Arg &var_json = {}) const {
        return guarded({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name}, {"md5", &md5},
                        {"meta_json", &meta_json}, {"var_json", &var_json}},
                       [&] {
                           return wantu_multipart_init(handle(), policy_json.c_str(), dir.c_str(),
                                                       name.c_str(), bytes(content), content.size(),
                                                       md5.c_str(), meta_json.c_str(), var_json.c_str());
                       });
    }

    /** Sends part `part_number` (2...10000) of an upload; answers its e_tag. */
    Result multipart_upload(const Arg &policy_json, const Arg &id, const Arg &upload_id,
                            std::uint32_t part_number, std::string_view content,
                            const Arg &md5 = {}) const {
        return guarded({{"policy_json", &policy_json}, {"id", &id}, {"upload_id", &upload_id}, {"md5", &md5}},
                       [&] {
                           return wantu_multipart_upload(handle(), policy_json.c_str(), id.c_str(),
                                                         upload_id.c_str(), part_number, bytes(content),
                                                         content.size(), md5.c_str());
                       });
    }

    /** Assembles the file; `parts` is the Python SDK's Base64 or a JSON array. */
    Result multipart_complete(const Arg &policy_json, const Arg &id, const Arg &upload_id,
                              const Arg &parts, const Arg &md5 = {}) const {
        return guarded({{"policy_json", &policy_json}, {"id", &id}, {"upload_id", &upload_id},
                        {"parts", &parts}, {"md5", &md5}},
                       [&] {
                           return wantu_multipart_complete(handle(), policy_json.c_str(), id.c_str(),
                                                           upload_id.c_str(), parts.c_str(), md5.c_str());
                       });
    }

    /** Cancels an upload; the server discards its parts. */
    Result multipart_cancel(const Arg &policy_json, const Arg &id, const Arg &upload_id) const {
        return guarded({{"policy_json", &policy_json}, {"id", &id}, {"upload_id", &upload_id}}, [&] {
            return wantu_multipart_cancel(handle(), policy_json.c_str(), id.c_str(), upload_id.c_str());
        });
    }

    // -- one call, any size: parallel parts, progress, cancel, retries ------

    /** Uploads a local file of any size (see wantu_transfer_file). */
    Result transfer_file(const Arg &policy_json, const Arg &dir, const Arg &name,
                         const Arg &file_path, const TransferArgs &args = {}) const {
        detail::Callbacks cb;
        return cb.finish(transfer(policy_json, dir, name, args, cb, {{"file_path", &file_path}}, [&] {
            return wantu_transfer_file(handle(), policy_json.c_str(), dir.c_str(), name.c_str(),
                                       file_path.c_str(), args.meta_json.c_str(),
                                       args.var_json.c_str(), args.options_json.c_str(),
                                       progress_fn(args), &cb, cancel_of(args));
        }));
    }

    /** Uploads bytes from memory in one call (see wantu_transfer_content). */
    Result transfer_content(const Arg &policy_json, const Arg &dir, const Arg &name,
                            std::string_view content, const TransferArgs &args = {}) const {
        detail::Callbacks cb;
        return cb.finish(transfer(policy_json, dir, name, args, cb, {}, [&] {
            return wantu_transfer_content(handle(), policy_json.c_str(), dir.c_str(), name.c_str(),
                                          bytes(content), content.size(), args.meta_json.c_str(),
                                          args.var_json.c_str(), args.options_json.c_str(),
                                          progress_fn(args), &cb, cancel_of(args));
        }));
    }

    /** Uploads a stream of unknown length, read until its end (see
     *  wantu_transfer_stream); a stream that goes bad fails the upload. */
    Result transfer_stream(const Arg &policy_json, const Arg &dir, const Arg &name,
                           std::istream &stream, const TransferArgs &args = {}) const {
        detail::Callbacks cb;
        cb.stream = &stream;
        return cb.finish(transfer(policy_json, dir, name, args, cb, {}, [&] {
            return wantu_transfer_stream(handle(), policy_json.c_str(), dir.c_str(), name.c_str(),
                                         &detail::Callbacks::on_read, &cb, args.meta_json.c_str(),
                                         args.var_json.c_str(), args.options_json.c_str(),
                                         progress_fn(args), &cb, cancel_of(args));
        }));
    }

    // -- management (manage_endpoint); `ns` is the namespace ---------------

    Result file_exists(const Arg &ns, const Arg &dir, const Arg &name) const {
        return guarded({{"ns", &ns}, {"dir", &dir}, {"name", &name}},
                       [&] { return wantu_file_exists(handle(), ns.c_str(), dir.c_str(), name.c_str()); });
    }
    /** Non-blocking file_get. */
    std::future<Result> file_get_async(const Arg &ns, const Arg &dir, const Arg &name) const {
        return later({{"ns", &ns}, {"dir", &dir}, {"name", &name}}, [&](const wantu_async *how) {
            return wantu_file_get_async(handle(), ns.c_str(), dir.c_str(), name.c_str(), how);
        });
    }
    Result file_get(const Arg &ns, const Arg &dir, const Arg &name) const {
        return guarded({{"ns", &ns}, {"dir", &dir}, {"name", &name}},
                       [&] { return wantu_file_get(handle(), ns.c_str(), dir.c_str(), name.c_str()); });
    }
    Result file_delete(const Arg &ns, const Arg &dir, const Arg &name) const {
        return guarded({{"ns", &ns}, {"dir", &dir}, {"name", &name}},
                       [&] { return wantu_file_delete(handle(), ns.c_str(), dir.c_str(), name.c_str()); });
    }
    /** `new_dir` absent keeps the folder. */
    Result file_rename(const Arg &ns, const Arg &dir, const Arg &name, const Arg &new_dir,
                       const Arg &new_name) const {
        return guarded({{"ns", &ns}, {"dir", &dir}, {"name", &name}, {"new_dir", &new_dir},
                        {"new_name", &new_name}},
                       [&] {
                           return wantu_file_rename(handle(), ns.c_str(), dir.c_str(), name.c_str(),
                                                    new_dir.c_str(), new_name.c_str());
                       });
    }
    Result file_list(const Arg &ns, const Arg &dir, std::int64_t page = 1,
                     std::int64_t page_size = 100) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_file_list(handle(), ns.c_str(), dir.c_str(), page, page_size); });
    }
    Result file_list_all(const Arg &ns, const Arg &dir, std::int64_t max_items = 10000) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_file_list_all(handle(), ns.c_str(), dir.c_str(), max_items); });
    }
    Result dir_create(const Arg &ns, const Arg &dir) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_dir_create(handle(), ns.c_str(), dir.c_str()); });
    }
    Result dir_exists(const Arg &ns, const Arg &dir) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_dir_exists(handle(), ns.c_str(), dir.c_str()); });
    }
    Result dir_delete(const Arg &ns, const Arg &dir) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_dir_delete(handle(), ns.c_str(), dir.c_str()); });
    }
    Result dir_list(const Arg &ns, const Arg &dir, std::int64_t page = 1,
                    std::int64_t page_size = 100) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_dir_list(handle(), ns.c_str(), dir.c_str(), page, page_size); });
    }
    Result dir_list_all(const Arg &ns, const Arg &dir, std::int64_t max_items = 10000) const {
        return guarded({{"ns", &ns}, {"dir", &dir}},
                       [&] { return wantu_dir_list_all(handle(), ns.c_str(), dir.c_str(), max_items); });
    }
    /* Processing and scanning: wantu-server validates them and answers 501. For
     * wantu_pts_*, wantu_media_encode*, wantu_snapshot*, wantu_scan_* use call(). */

    /** `{"code":200,"resource_id":...}` of a file (or of the folder `dir`
     *  when `name` is absent); no client, no network. */
    static Result resource_id(const Arg &ns, const Arg &dir, const Arg &name = {}) {
        return guarded({{"ns", &ns}, {"dir", &dir}, {"name", &name}},
                       [&] { return wantu_resource_id(ns.c_str(), dir.c_str(), name.c_str()); });
    }

private:
    struct Deleter {
        void operator()(wantu_client *c) const noexcept { wantu_client_free(c); }
    };
    struct Named {
        const char *name;
        const Arg *arg;
    };

    Client(const Arg &ak, const Arg &sk, const Arg &type, const Arg &upload_endpoint,
           const Arg &manage_endpoint, const Arg &options_json) {
        if (auto bad = nul_error({{"ak", &ak}, {"sk", &sk}, {"type", &type},
                                  {"upload_endpoint", &upload_endpoint},
                                  {"manage_endpoint", &manage_endpoint}, {"options_json", &options_json}}))
            throw Error(*bad);
        handle_.reset(wantu_client_new_with_options(ak.c_str(), sk.c_str(), type.c_str(),
                                                    upload_endpoint.c_str(), manage_endpoint.c_str(),
                                                    options_json.c_str()));
        if (!handle_) {
            char *why = wantu_last_error();
            throw Error(why ? Result::take(why)
                            : Result::local_error("Internal", "wantu_client_new failed"));
        }
    }

    static const std::uint8_t *bytes(std::string_view s) noexcept {
        return reinterpret_cast<const std::uint8_t *>(s.data());
    }

    /* A string with a NUL inside would be cut short by C: refuse it. */
    static std::optional<Result> nul_error(std::initializer_list<Named> args) {
        for (const Named &a : args) {
            if (a.arg->has_nul())
                return Result::local_error("InvalidArgument",
                                           std::string("`") + a.name +
                                               "` contains a NUL character, which C strings cannot carry");
        }
        return std::nullopt;
    }

    /* Checks the string arguments, then runs the C call and takes its result. */
    template <class F> static Result guarded(std::initializer_list<Named> args, F &&c_call) {
        if (auto bad = nul_error(args)) return *bad;
        return Result::take(c_call());
    }

    /* The future form: `start(how)` calls a wantu_*_async function; its
     * completion callback (on a library thread, or on this one when the call
     * is refused at once) fulfils the promise and frees the operation. */
    static void fulfil(wantu_op *op, char *result, void *user_data) noexcept {
        std::unique_ptr<std::promise<Result>> p(static_cast<std::promise<Result> *>(user_data));
        p->set_value(Result::take(result));
        wantu_op_free(op);
    }

    template <class F>
    static std::future<Result> later(std::initializer_list<Named> args, F &&start) {
        auto promise = std::make_unique<std::promise<Result>>();
        std::future<Result> future = promise->get_future();
        if (auto bad = nul_error(args)) {
            promise->set_value(*bad);
            return future;
        }
        wantu_async how{nullptr, &Client::fulfil, promise.get(), 0};
        std::promise<Result> *raw = promise.release();
        if (start(&how) == nullptr) { /* not started: the callback never runs */
            std::unique_ptr<std::promise<Result>> back(raw);
            back->set_value(Result::take(wantu_last_error()));
        }
        return future;
    }

    template <class F>
    Result transfer(const Arg &policy_json, const Arg &dir, const Arg &name, const TransferArgs &args,
                    detail::Callbacks &cb, std::initializer_list<Named> more, F &&c_call) const {
        for (const Named &a : more)
            if (auto bad = nul_error({a})) return *bad;
        cb.progress = args.progress ? &args.progress : nullptr;
        return guarded({{"policy_json", &policy_json}, {"dir", &dir}, {"name", &name},
                        {"meta_json", &args.meta_json}, {"var_json", &args.var_json},
                        {"options_json", &args.options_json}},
                       std::forward<F>(c_call));
    }

    static wantu_progress_fn progress_fn(const TransferArgs &args) noexcept {
        return args.progress ? &detail::Callbacks::on_progress : nullptr;
    }

    static const wantu_cancel *cancel_of(const TransferArgs &args) noexcept {
        return args.cancel ? args.cancel->handle() : nullptr;
    }

    std::unique_ptr<wantu_client, Deleter> handle_;
};

} // namespace wantu

#endif /* WANTU_HPP */
