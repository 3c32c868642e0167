// Shared by the tests/cpp programs: a wantu-server child process, a tiny
// HTTP GET for downloads, Base64url and deterministic test bytes.
//
// The server binary is $WANTU_SERVER_BIN, else
// ${CARGO_TARGET_DIR:-target}/{debug,release}/wantu-server relative to the
// current directory (run the tests from the repository root).
#ifndef WANTU_TEST_HARNESS_HPP
#define WANTU_TEST_HARNESS_HPP

#include <wantu.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

extern char **environ;

namespace harness {


inline const char *const AK = "cpp-test-ak";
inline const char *const SK = "cpp-test-sk-0123456789";
inline const std::string POLICY = R"({"namespace":"cppns","expiration":-1})";

inline int failures = 0;

#define CHECK(cond, what)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            ++::harness::failures;                                                                  \
            std::cerr << "FAIL " << __LINE__ << ": " << (what) << " [" #cond "]\n";         \
        }                                                                                   \
    } while (0)

// A wantu-server child process on a free port.
class Server {
public:
    Server() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "wantu-cpp-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        std::string bin = binary();
        std::string data = dir_.string();
        std::string key = std::string(AK) + ":" + SK;
        std::vector<std::string> args = {bin, "--listen", "127.0.0.1:0", "--data", data, "--key", key};
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        if (!std::getenv("WANTU_TEST_VERBOSE"))
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 01 /*O_WRONLY*/, 0);
        int rc = posix_spawn(&pid_, bin.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(out[1]);
        if (rc != 0) {
            close(out[0]);
            throw std::runtime_error("cannot start " + bin + ": " + std::strerror(rc));
        }
        // The first stdout line is "listening on http://HOST:PORT".
        std::string line;
        char c;
        while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
        close(out[0]);
        const std::string prefix = "listening on ";
        if (line.compare(0, prefix.size(), prefix) != 0)
            throw std::runtime_error("wantu-server said \"" + line + "\" instead of its address");
        url_ = line.substr(prefix.size());
        auto colon = url_.rfind(':');
        port_ = std::stoi(url_.substr(colon + 1));
    }
    ~Server() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    const std::string &url() const { return url_; }
    int port() const { return port_; }
    const std::filesystem::path &dir() const { return dir_; }

private:
    static std::string binary() {
        if (const char *env = std::getenv("WANTU_SERVER_BIN")) return env;
        const char *target = std::getenv("CARGO_TARGET_DIR");
        std::string base = target ? target : "target";
        for (const char *profile : {"/debug/", "/release/"}) {
            std::string path = base + profile + "wantu-server";
            if (access(path.c_str(), X_OK) == 0) return path;
        }
        throw std::runtime_error("wantu-server not found: build it (cargo build --workspace) "
                                 "or set WANTU_SERVER_BIN");
    }
    pid_t pid_ = -1;
    std::filesystem::path dir_;
    std::string url_;
    int port_ = 0;
};

// GET http://127.0.0.1:port/path over a plain socket; the body, or "" on error.
inline std::string http_get(int port, const std::string &path, int *status) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        close(fd);
        return "";
    }
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        close(fd);
        return "";
    }
    std::string resp;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
    close(fd);
    auto head_end = resp.find("\r\n\r\n");
    if (head_end == std::string::npos) return "";
    *status = std::atoi(resp.c_str() + 9);
    std::string head = resp.substr(0, head_end);
    std::string body = resp.substr(head_end + 4);
    for (auto &ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
        std::string out;
        size_t i = 0;
        while (i < body.size()) {
            size_t eol = body.find("\r\n", i);
            size_t len = std::stoul(body.substr(i, eol - i), nullptr, 16);
            if (len == 0) break;
            out += body.substr(eol + 2, len);
            i = eol + 2 + len + 2;
        }
        return out;
    }
    return body;
}

inline std::string b64url(const std::string &in) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += tbl[(v >> s) & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += (i + 1 < in.size()) ? tbl[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

inline std::string pattern(size_t len, unsigned seed) {
    std::string s(len, '\0');
    unsigned x = seed * 2654435761u + 1;
    for (auto &c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

} // namespace harness

#endif
